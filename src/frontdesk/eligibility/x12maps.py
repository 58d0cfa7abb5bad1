"""pyx12 maps for the 005010X279A1 eligibility inquiry (270) and response (271).

pyx12 validates an X12 document against an XML map of its implementation guide. The wheel of
pyx12 4.0 on the package index ships no 005010X279A1 map (its maps.xml lists the 5010 270/271
maps commented out), so the maps are built here from the table below: the loops, segments and
elements Frontdesk sends and reads, with the guide's usage, repeats and code lists. The
envelope (ISA, GS, GE, IEA), the data element dictionary (types, lengths) and the code lists
are pyx12's own files, copied beside the two maps into one directory that `x12n_document` is
pointed at. A segment outside this table (a 2120C benefit-related entity, a 2000D dependent
loop) is reported by pyx12 as unexpected: such an answer is kept, and shown, as not understood.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

VERSION = "005010X279A1"
MAP_270 = "270.5010.X279.A1.xml"
MAP_271 = "271.5010.X279.A1.xml"


@dataclass(frozen=True)
class Ele:
    data_ele: str
    usage: str = "S"  # R required, S situational, N not used
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Seg:
    xid: str
    usage: str
    pos: int
    max_use: str
    elements: tuple[Ele, ...]
    syntax: tuple[str, ...] = ()


@dataclass(frozen=True)
class Loop:
    xid: str
    usage: str
    pos: int
    repeat: str
    children: tuple[Seg | Loop, ...] = field(default=())
    kind: str = ""  # "wrapper" for the guide's table areas


def _hl(code: str, *, parent: bool, child: tuple[str, ...]) -> Seg:
    return Seg(
        "HL",
        "R",
        100,
        "1",
        (
            Ele("628", "R"),
            Ele("734", "R" if parent else "N"),
            Ele("735", "R", (code,)),
            Ele("736", "R", child),
        ),
    )


def _nm1(pos: int, entity: tuple[str, ...], qualifiers: tuple[str, ...]) -> Seg:
    return Seg(
        "NM1",
        "R",
        pos,
        "1",
        (
            Ele("98", "R", entity),
            Ele("1065", "R", ("1", "2")),
            Ele("1035", "S"),
            Ele("1036", "S"),
            Ele("1037", "S"),
            Ele("1038", "N"),
            Ele("1039", "S"),
            Ele("66", "S", qualifiers),
            Ele("67", "S"),
        ),
        ("P0809", "C1110", "C1203"),
    )


_REF = (Ele("128", "R"), Ele("127", "S"), Ele("352", "S"))
_N3 = (Ele("166", "R"), Ele("166", "S"))
_N4 = (
    Ele("19", "S"),
    Ele("156", "S"),
    Ele("116", "S"),
    Ele("26", "S"),
    Ele("309", "N"),
    Ele("310", "N"),
    Ele("1715", "S"),
)
_PRV = (Ele("1221", "R"), Ele("128", "S"), Ele("127", "S"))
_DMG = (Ele("1250", "S", ("D8",)), Ele("1251", "S"), Ele("1068", "S", ("F", "M", "U")))
_DTP = (Ele("374", "R"), Ele("1250", "R", ("D8", "RD8")), Ele("1251", "R"))
_TRN = (Ele("481", "R", ("1", "2")), Ele("127", "R"), Ele("509", "R"), Ele("127", "S"))
_AAA = (Ele("1073", "R", ("N", "Y")), Ele("559", "N"), Ele("901", "R"), Ele("889", "R"))
_SOURCE_ENTITY = ("2B", "36", "GP", "P5", "PR")
_RECEIVER_ENTITY = ("1P", "2B", "36", "80", "FA", "GP", "P5", "PR")
_SOURCE_IDS = ("24", "46", "FI", "NI", "PI", "XV", "XX")
_RECEIVER_IDS = ("24", "34", "46", "FI", "PI", "PP", "SV", "XV", "XX")


def _body_270() -> Loop:
    subscriber = Loop(
        "2100C",
        "R",
        300,
        "1",
        (
            _nm1(300, ("IL",), ("MI", "II")),
            Seg("REF", "S", 400, "9", _REF),
            Seg("N3", "S", 600, "1", _N3),
            Seg("N4", "S", 700, "1", _N4),
            Seg("PRV", "S", 900, "1", _PRV),
            Seg("DMG", "S", 1000, "1", _DMG),
            Seg("DTP", "S", 1100, "2", _DTP),
            Loop(
                "2110C",
                "S",
                1300,
                "99",
                (Seg("EQ", "S", 1300, "1", (Ele("1365", "S"),)),),
            ),
        ),
    )
    return _tables(
        tsid="270",
        bht_purpose=("13",),
        source_extra=(),
        receiver_extra=(
            Seg("REF", "S", 400, "9", _REF),
            Seg("N3", "S", 600, "1", _N3),
            Seg("N4", "S", 700, "1", _N4),
            Seg("PRV", "S", 900, "1", _PRV),
        ),
        subscriber_top=(Seg("TRN", "S", 200, "2", _TRN),),
        subscriber=subscriber,
    )


def _body_271() -> Loop:
    eb = Seg(
        "EB",
        "R",
        1300,
        "1",
        (
            Ele("1390", "R"),
            Ele("1207", "S"),
            Ele("1365", "S"),
            Ele("1336", "S"),
            Ele("1204", "S"),
            Ele("615", "S"),
            Ele("782", "S"),
            Ele("954", "S"),
            Ele("673", "S"),
            Ele("380", "S"),
            Ele("1073", "S", ("N", "U", "Y")),
            Ele("1073", "S", ("N", "U", "W", "Y")),
        ),
    )
    subscriber = Loop(
        "2100C",
        "R",
        300,
        "1",
        (
            _nm1(300, ("IL",), ("MI", "II")),
            Seg("REF", "S", 400, "9", _REF),
            Seg("N3", "S", 600, "1", _N3),
            Seg("N4", "S", 700, "1", _N4),
            Seg("AAA", "S", 850, "9", _AAA),
            Seg("PRV", "S", 900, "1", _PRV),
            Seg("DMG", "S", 1000, "1", _DMG),
            Seg("DTP", "S", 1200, "9", _DTP),
            Loop(
                "2110C",
                "S",
                1300,
                ">1",
                (
                    eb,
                    Seg("REF", "S", 1400, "9", _REF),
                    Seg("DTP", "S", 1500, "20", _DTP),
                    Seg("AAA", "S", 1600, "9", _AAA),
                    Seg("MSG", "S", 2500, "10", (Ele("933", "R"),)),
                ),
            ),
        ),
    )
    return _tables(
        tsid="271",
        bht_purpose=("11",),
        source_extra=(Seg("AAA", "S", 400, "9", _AAA),),
        receiver_extra=(
            Seg("REF", "S", 400, "9", _REF),
            Seg("AAA", "S", 500, "9", _AAA),
            Seg("PRV", "S", 800, "1", _PRV),
        ),
        subscriber_top=(Seg("TRN", "S", 200, "3", _TRN),),
        subscriber=subscriber,
        source_top=(Seg("AAA", "S", 250, "9", _AAA),),
    )


def _tables(
    *,
    tsid: str,
    bht_purpose: tuple[str, ...],
    source_extra: tuple[Seg, ...],
    receiver_extra: tuple[Seg, ...],
    subscriber_top: tuple[Seg, ...],
    subscriber: Loop,
    source_top: tuple[Seg, ...] = (),
) -> Loop:
    # A child level follows its parent's name loop (pos 300), so it sits at 400.
    subscriber_level = Loop(
        "2000C",
        "S",
        400,
        ">1",
        (_hl("22", parent=True, child=("0", "1")), *subscriber_top, subscriber),
    )
    receiver_level = Loop(
        "2000B",
        "S",
        400,
        ">1",
        (
            _hl("21", parent=True, child=("0", "1")),
            Loop(
                "2100B",
                "R",
                300,
                "1",
                (_nm1(300, _RECEIVER_ENTITY, _RECEIVER_IDS), *receiver_extra),
            ),
            subscriber_level,
        ),
    )
    source_level = Loop(
        "2000A",
        "R",
        100,
        ">1",
        (
            _hl("20", parent=False, child=("0", "1")),
            *source_top,
            Loop("2100A", "R", 300, "1", (_nm1(300, _SOURCE_ENTITY, _SOURCE_IDS), *source_extra)),
            receiver_level,
        ),
    )
    return Loop(
        "ST_LOOP",
        "R",
        200,
        ">1",
        (
            Seg(
                "ST",
                "R",
                100,
                "1",
                (Ele("143", "R", (tsid,)), Ele("329", "R"), Ele("1705", "R", (VERSION,))),
            ),
            Loop(
                "HEADER",
                "R",
                110,
                "1",
                (
                    Seg(
                        "BHT",
                        "R",
                        200,
                        "1",
                        (
                            Ele("1005", "R", ("0022",)),
                            Ele("353", "R", bht_purpose),
                            Ele("127", "S"),
                            Ele("373", "R"),
                            Ele("337", "R"),
                            Ele("640", "S"),
                        ),
                    ),
                ),
                kind="wrapper",
            ),
            Loop("TABLE2", "R", 120, ">1", (source_level,), kind="wrapper"),
            Seg("SE", "R", 5550, "1", (Ele("96", "R"), Ele("329", "R"))),
        ),
        kind="explicit",
    )


def _xml(node: Seg | Loop, names: dict[str, str]) -> ET.Element:
    if isinstance(node, Seg):
        seg = ET.Element("segment", xid=node.xid)
        for tag, text in (
            ("name", node.xid),
            ("usage", node.usage),
            ("pos", f"{node.pos:04d}"),
            ("max_use", node.max_use),
        ):
            ET.SubElement(seg, tag).text = text
        for rule in node.syntax:
            ET.SubElement(seg, "syntax").text = rule
        for seq, ele in enumerate(node.elements, start=1):
            el = ET.SubElement(seg, "element", xid=f"{node.xid}{seq:02d}")
            ET.SubElement(el, "data_ele").text = ele.data_ele
            ET.SubElement(el, "name").text = names.get(ele.data_ele, ele.data_ele)
            ET.SubElement(el, "usage").text = ele.usage
            ET.SubElement(el, "seq").text = f"{seq:02d}"
            if ele.codes:
                codes = ET.SubElement(el, "valid_codes")
                for code in ele.codes:
                    ET.SubElement(codes, "code").text = code
        return seg
    attrs = {"xid": node.xid}
    if node.kind:
        attrs["type"] = node.kind
    loop = ET.Element("loop", attrs)
    for tag, text in (
        ("name", node.xid),
        ("usage", node.usage),
        ("pos", f"{node.pos:04d}"),
        ("repeat", node.repeat),
    ):
        ET.SubElement(loop, tag).text = text
    for child in node.children:
        loop.append(_xml(child, names))
    return loop


def _map_document(
    package_maps: Path, body: Loop, *, fic: str, tsid: str
) -> ET.ElementTree[ET.Element]:
    """pyx12's own 5010 envelope (from its 999 map) around this transaction's body."""
    # pyx12's own packaged map, a trusted file.
    tree = ET.parse(package_maps / "999.5010.xml")  # noqa: S314
    root = tree.getroot()
    root.set("xid", tsid)
    root.find("name").text = f"HIPAA Health Care Eligibility {tsid} {VERSION}"  # type: ignore[union-attr]
    gs_loop = root.find("./loop[@xid='ISA_LOOP']/loop[@xid='GS_LOOP']")
    assert gs_loop is not None  # noqa: S101 - pyx12's map has it
    for element in gs_loop.iter("element"):
        codes = element.find("valid_codes")
        if element.get("xid") == "GS01" and codes is not None:
            codes.clear()
            ET.SubElement(codes, "code").text = fic
        if element.get("xid") == "GS08":
            codes = codes if codes is not None else ET.SubElement(element, "valid_codes")
            codes.clear()
            ET.SubElement(codes, "code").text = VERSION
    old = gs_loop.find("./loop[@xid='ST_LOOP']")
    assert old is not None  # noqa: S101
    index = list(gs_loop).index(old)
    gs_loop.remove(old)
    names = _element_names(package_maps)
    gs_loop.insert(index, _xml(body, names))
    return tree


def _element_names(package_maps: Path) -> dict[str, str]:
    tree = ET.parse(package_maps / "dataele.xml")  # noqa: S314 - pyx12's own file
    return {e.get("ele_num", ""): e.get("name", "") for e in tree.getroot().iter("data_ele")}


@functools.cache
def map_directory() -> str:
    """A directory holding pyx12's envelope, dictionary and code files and the two X279A1
    maps, built once per process (the maps are a pure function of the table above)."""
    package_maps = Path(str(files("pyx12").joinpath("map")))
    target = Path(tempfile.mkdtemp(prefix="frontdesk-x12maps-"))
    for name in ("x12.control.00501.xml", "dataele.xml", "codes.xml"):
        shutil.copyfile(package_maps / name, target / name)
    _map_document(package_maps, _body_270(), fic="HS", tsid="270").write(
        target / MAP_270, encoding="utf-8", xml_declaration=True
    )
    _map_document(package_maps, _body_271(), fic="HB", tsid="271").write(
        target / MAP_271, encoding="utf-8", xml_declaration=True
    )
    maps = ET.Element("maps")
    version = ET.SubElement(maps, "version", icvn="00501")
    ET.SubElement(version, "map", vriic=VERSION, fic="HS", abbr="270").text = MAP_270
    ET.SubElement(version, "map", vriic=VERSION, fic="HB", abbr="271").text = MAP_271
    ET.SubElement(version, "map", vriic="", fic="", abbr="X12").text = "x12.control.00501.xml"
    ET.ElementTree(maps).write(target / "maps.xml", encoding="utf-8", xml_declaration=True)
    return str(target)
