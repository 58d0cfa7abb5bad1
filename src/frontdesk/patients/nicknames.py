"""Given-name nicknames and short forms, mapped to their formal names.

The table is data: one formal name per line, then the short forms people register under.
Names are lowercase ASCII (accents stripped, as `matching.normalise_name` leaves them).
A short form may belong to several formal names (Al: Albert, Alan, Alfred, Alexander);
the first formal name listed for it is the one `given_name_canonical` returns. Spelling
variants of a formal name (Catherine, Katherine, Kathryn) share its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# formal: short forms and variants (space-separated). Where two formal names share a short
# form, the line that comes first gives the usual reading, so the first lines are the names
# that win such a tie (Jack is John before Jacob, Fred is Frederick before Alfred); the rest
# is alphabetical.
_TABLE = """
john: jack johnny jon jonny
christopher: chris kit topher chrissy
edward: ed eddie ted teddy ned ward
frederick: fred freddie freddy fritz
francis: frank frankie fran
henry: harry hank hal
samuel: sam sammy
louis: lou louie
ronald: ron ronnie
stephen: steve stevie steven
theodore: ted teddy theo
aaron: aron
abigail: abby abbie abbey gail
abraham: abe bram
adam: ad
adelaide: addie della heidi
adrian: ade
agnes: aggie nessa nessie
albert: al bert bertie albie
alan: al allan allen
alexander: alex al alec alexis sandy xander lex sasha
alexandra: alex alexa sandra sandy lexie sasha xandra
alfred: alf alfie al fred freddie
alice: allie ally ali alicia
alison: ali allie ally allison
amanda: mandy manda
amelia: amy millie mia
andrew: andy drew andie
angela: angie ange
anne: ann annie nan nancy anna hannah
anthony: tony ant antony
antonio: tony toni
archibald: archie arch
arnold: arnie
arthur: art artie
augustus: gus augie
barbara: barb barbie babs bobbie
barnaby: barney
bartholomew: bart
beatrice: bea trixie bee
benjamin: ben benny benji
bernard: bernie bern
bertram: bert bertie
beverly: bev
bradley: brad
bridget: biddy bridie
calvin: cal
cameron: cam
carolyn: carol carrie caroline lyn
catherine: cathy kate katie kathy cath kat katherine kathryn katharine kay kitty cate
cecilia: cece celia cissy
charles: charlie chuck chas chaz chip carl
charlotte: lottie charlie lotte
christian: chris
christina: chris chrissy tina christine kristina kristine
clarence: clare
clifford: cliff
constance: connie
cornelius: neil con connie
cynthia: cindy
daniel: dan danny
danielle: dani
darren: daz
david: dave davey davy
deborah: deb debbie debra debby
dennis: den denny
diana: di dee
dolores: lola dee
dominic: dom
donald: don donnie
dorothy: dot dottie dolly dora
douglas: doug
duncan: dunc
edgar: ed eddie
edmund: ed eddie ned
edwin: ed eddie win
eleanor: ellie nell nellie nora elle elinor
elizabeth: liz lizzie beth betty bess bessie eliza elsie libby lisa betsy lizzy liza ellie bettie
ellen: ellie nell nellie
emily: em emmy millie
emma: em emmy
eugene: gene
evelyn: evie eve
ezekiel: zeke
florence: flo flossie
frances: fran fanny frankie francie
gabriel: gabe
gabrielle: gabby gabi
geoffrey: geoff jeff
george: georgie
georgina: georgie gina
gerald: gerry jerry
geraldine: gerry geri
gertrude: gertie trudy
gilbert: gil bert
gordon: gordie
gregory: greg
gwendolyn: gwen wendy
harold: harry hal
harriet: hattie
helen: nell nellie lena
herbert: herb bert
howard: howie
hubert: hugh bert
isaac: ike
isabella: bella izzy isabel isabelle belle isobel
jacob: jake jack
jacqueline: jackie jacky
james: jim jimmy jamie jimbo
jane: jenny janie jean
janet: jan
jeffrey: jeff geoff
jennifer: jen jenny jenn
jeremy: jerry jem
jerome: jerry
jessica: jess jessie
joan: joanie
joanna: jo joanne
jonathan: jon jonny nathan
joseph: joe joey jo jos
josephine: jo josie
joshua: josh
judith: judy jude
julia: julie jules
julian: jules
kenneth: ken kenny
kimberly: kim
lawrence: larry laurie lawrie laurence
leonard: len lenny leo
leslie: les
lewis: lew louis
lillian: lily lil lilly
louise: lou lulu louisa
lucinda: cindy lucy
lucy: lucie
madeline: maddie maddy madeleine madelyn
margaret: peggy maggie meg marge margie greta daisy madge maisie megan peg rita gretchen
marjorie: marge margie
martha: marty patsy mattie
martin: marty
mary: polly molly mae mamie maria marie
matilda: tilly tilda mattie
matthew: matt matty
maureen: mo
maximilian: max
maxwell: max
melanie: mel
melissa: mel missy lisa
michael: mike mick mikey mickey mitch
michelle: shelly chelle
mildred: millie
miriam: mimi
mitchell: mitch
nathan: nate nat
nathaniel: nate nat nathan
nicholas: nick nicky nico
nicole: nicky nikki
norman: norm
oliver: ollie olly
olivia: liv livvy ollie
oswald: ozzy oz
pamela: pam
patricia: pat patty patsy trish tricia trisha
patrick: pat paddy patty
paul: pauly
penelope: penny
peter: pete
philip: phil pip phillip
phillipa: pippa pip
priscilla: cilla prissy
rachel: rach
raymond: ray
rebecca: becky becca reba
reginald: reg reggie
richard: rick ricky dick rich richie
robert: bob bobby rob robbie bert bertie
roberta: bobbie robbie
rodney: rod
roger: rog
rosalind: ros roz
rosemary: rose rosie
russell: russ rusty
samantha: sam sammy
sarah: sally sadie sara
sebastian: seb bastian
sidney: sid
simon: si
solomon: sol
sophia: sophie
stanley: stan
stephanie: steph stevie
susan: sue susie suzy suzanne
sylvester: sly
teresa: terry tess tessa theresa tracy
terence: terry
thomas: tom tommy thom
timothy: tim timmy
tobias: toby
valerie: val
veronica: ronnie nicky vera
victor: vic
victoria: vicky tori vicki vic
vincent: vince vinnie
virginia: ginny ginger
walter: walt wally
wilfred: fred wilf
william: bill billy will willie liam wil
winifred: winnie freda
yvonne: vonnie
zachary: zach zack zac
"""


def _parse(table: str) -> dict[str, tuple[str, ...]]:
    forms: dict[str, list[str]] = {}
    for line in table.strip().splitlines():
        formal, _, shorts = line.partition(":")
        for name in (formal, *shorts.split()):
            readings = forms.setdefault(name, [])
            if formal not in readings:
                readings.append(formal)
    # A formal name is its own first reading even when it is also another name's short form
    # (Nathan is a name, and a short form of Jonathan and Nathaniel).
    table_formals = {line.partition(":")[0] for line in table.strip().splitlines()}
    for name, readings in forms.items():
        if name in table_formals and readings[0] != name:
            readings.remove(name)
            readings.insert(0, name)
    return {name: tuple(readings) for name, readings in forms.items()}


#: short form or formal name -> the formal names it can stand for, most common first.
FORMAL_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(_parse(_TABLE))


def formal_names(name: str) -> tuple[str, ...]:
    """The formal names a normalised given name can stand for; the name itself if none."""
    return FORMAL_NAMES.get(name, (name,))
