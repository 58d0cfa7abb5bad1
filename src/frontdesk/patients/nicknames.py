"""Given-name nicknames, short forms and spellings, mapped to their formal names.

Source and licence: every table here was written for Frontdesk from general knowledge of
naming customs (no list was copied or downloaded) and is under Frontdesk's own licence.
The tables: English (`_TABLE`), Spanish, Portuguese, French, German, Italian, Vietnamese,
Chinese romanisations, Arabic romanisations and Indian given names (`_WORLD_TABLES`), and
the romanisations of Chinese, Vietnamese and Arabic family names (`_FAMILY_SPELLINGS`).
Nothing is fetched at run time.

Each table is data: one formal name per line, then the short forms people register under.
Names are lowercase ASCII (accents stripped, as `matching.records.normalise_name` leaves them).
A short form may belong to several formal names (Al: Albert, Alan, Alfred, Alexander);
the first formal name listed for it is the one `given_name_canonical` returns. Spelling
variants of a formal name (Catherine, Katherine, Kathryn) share its line.
"""

from __future__ import annotations

import functools
import re
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

# Other languages, in the same form. A line's first name is the form most records hold;
# the rest are short forms and spellings of it (accents stripped, spaces removed).
_WORLD_TABLES = {
    # Spanish: hypocoristics (Pepe, Paco, Lola) and compound names shortened (Maite, Chema).
    "spanish": """
jose: pepe pepito chepe jose chema josemaria joselito
francisco: paco pancho curro frasco quico paquito cisco
maria: mari maruja mary
dolores: lola lolita
concepcion: concha conchita
ignacio: nacho
jesus: chucho chuy chus
guadalupe: lupe lupita
antonio: tono tonio antonito
enrique: quique kike
manuel: manolo manolito
mercedes: merche meche
mariateresa: maite
rafael: rafa rafi
rosario: charo chayo
pilar: pili
natividad: nati
adolfo: fito
alberto: beto tito
roberto: beto
guillermo: memo guille
eduardo: lalo edu
gregorio: goyo
santiago: santi yago
fernando: nando fer
alejandro: alejo ale jando
alejandra: ale jandra
gonzalo: gonza
ramon: moncho
isabel: isa chabela
ana: anita
carmen: carmencita mamen
jorge: coque
luis: lucho
josefa: pepa pepita
francisca: paca paquita
consuelo: chelo
socorro: coco
asuncion: chon
""",
    # Portuguese (Portugal and Brazil).
    "portuguese": """
jose: ze zezinho
francisco: chico chiquinho
antonio: tonho toninho
joaquim: quim quinzinho
augusto: guto
sebastiao: tiao
beatriz: bia
marialuisa: malu
luisa: lu
gabriela: gabi
eduarda: duda
fernanda: nanda
daniela: dani
carolina: carol
fabiana: fabi
manuel: manu manel
manuela: manu
joao: joaozinho
goncalo: gonca
margarida: guida
conceicao: sao
rafaela: rafa
""",
    # French.
    "french": """
jean: jeannot
emmanuel: manu
francois: fanfan francou
andre: dede
nicolas: nico
sebastien: seb
stephane: steph
guillaume: guigui
laurent: lolo
frederic: fred
christophe: chris
marguerite: margot
elisabeth: babette lisette
isabelle: isa
dominique: domi
valerie: val
jacques: jacquot jacky
pierre: pierrot
joseph: jojo
benedicte: bene
catherine: cathy
charles: charlot
louise: loulou
philippe: phil
""",
    # German (and Austrian, Swiss).
    "german": """
johannes: hans hannes jan johann
josef: sepp seppl jupp joseph
franz: franzl
friedrich: fritz fritzi
heinrich: heinz hein heiner
konrad: kurt konny
wilhelm: willi willy wim
magdalena: lena leni
margarete: grete gretchen gretel
elisabeth: liesel lisl elli ilse
theresia: resi
ulrich: uli
wolfgang: wolf wolfi
stefanie: steffi
sebastian: basti
florian: flo
katharina: kathi kati katrin
johanna: hanne hanna
nikolaus: klaus niklas
anton: toni
matthias: hias matze
michael: michi
christoph: chris
gottfried: friedel
""",
    # Italian.
    "italian": """
giuseppe: beppe peppe peppino pino bepi
giovanni: gianni nino vanni
antonino: nino
salvatore: toto turi
francesco: ciccio franco checco
alessandro: sandro ale
federico: fede
elisabetta: betta
giuseppina: pina
vincenzo: enzo
lorenzo: enzo renzo
luigi: gigi gino
emanuele: lele
gabriele: lele
valentina: vale
domenico: mimmo
massimo: max
maria: mariuccia
caterina: rina
teresa: tere
""",
    # Vietnamese: tone marks are folded away by `normalise_name`; what remains is the
    # letter đ typed as "dd" (Telex input), and Northern and Western spellings of sounds.
    "vietnamese": """
duc: dduc
dung: ddung zung
dat: ddat
diep: ddiep
dao: ddao
giang: zang
hoang: huang
quynh: quinh
phuong: fuong
thuy: thuey
huy: huey
""",
    # Chinese given names: pinyin, Wade-Giles and Cantonese forms of common names.
    "chinese": """
xiaoming: hsiaoming siuming
jianguo: chienkuo
zhiwei: chihwei chiwai
weiming: waiming
jun: chun
jie: chieh kit
xin: hsin yan
qing: ching
hui: fai
mei: mui may
zhen: chen chun
""",
    # Arabic given names: the romanisations of one name (Muhammad has dozens).
    "arabic": """
muhammad: mohammed mohamed mohammad muhammed mohamad mohamud mehmet mohd muhamad mahomed hamoudi
ahmad: ahmed ahmet
mahmoud: mahmud mahmood
mustafa: mostafa moustafa mustapha
hussein: husain hussain hossein husein hossain
hassan: hasan
umar: omar omer
uthman: othman osman usman
abdullah: abdallah abdulla
abdulrahman: abdelrahman abderrahmane abdurrahman
yusuf: youssef yousef yousif yusef yousuf
ibrahim: ebrahim ibraheem
khalid: khaled
walid: waleed
said: saeed sayed saied
tariq: tarek tarik tareq
karim: kareem
jamal: gamal
nasser: nasir naser
rashid: rachid rasheed
hamza: hamzah
fatima: fatma fatemeh fatimah
aisha: aicha ayesha aysha
khadija: khadeeja khadidja khadijah
maryam: mariam meryem
zainab: zaynab zeinab
layla: leila laila leyla
nour: noor nur
amira: ameera
yasmin: yasmine jasmin yasmeen
samira: sameera
huda: hoda
hana: hanaa
""",
    # Indian given names: spellings across languages and the usual short forms.
    "indian": """
krishna: krishnan kishan kishore
srinivas: srinivasan seenu cheenu srini
venkatesh: venky venkat
subramanian: subbu subramaniam
lakshmi: laxmi lakshmy
jyoti: jyothi
deepak: dipak
rajesh: raju
rajendra: raju
vijay: vijai
sanjay: sanjai
ajay: ajai
abhishek: abhi
priya: pria
pooja: puja
shreya: sreya
shweta: sweta
sandeep: sandip
pradeep: pradip
kuldeep: kuldip
gurpreet: guri
bhavna: bhavana
kavita: kavitha
sunita: sunitha
anita: anitha
savita: savitha
lalita: lalitha
sita: seeta seetha
gita: geeta geetha
satya: sathya
ganesh: ganesan
karthik: kartik karthikeyan
shiva: siva
anand: ananth
aditya: adi
vikram: vicky
nikhil: nikki
harsha: harsh
chandra: chandran
balaji: bala
ravindra: ravi
raghavan: raghu raghunath
padma: padmini
meena: mina
""",
}

# Family names that are one name in several romanisations: Chinese (pinyin, Wade-Giles,
# Cantonese, Hokkien), Vietnamese and Korean forms, Arabic. One group a line; the first
# form stands for the group. A name in two groups (Chang: Zhang or Zheng) belongs to both.
_FAMILY_SPELLINGS = """
zhang chang cheung cheong teo
wang wong ong
li lee lei ly
chen chan chin tan
liu lau lao
huang hwang wong ng
zhou chow chou chau
wu woo ng
xu hsu tsui hui
zhao chao chiu
lin lam lim
he ho hoh
guo kuo kwok
luo lo law loh
liang leung leong
song sung
zheng cheng chang tay
xie hsieh tse che
tang tong
feng fung
deng teng tang
cao tsao cho
peng pang phang
zeng tseng tsang
xiao hsiao siu
tian tien
dong tung
pan poon phan
yuan yuen
cai tsai choi
jiang chiang kong
yu yue yee
du tu to
ye yeh yip
su soo so
lu loo
nguyen nguyenn ngyuen
tran chan
pham phan
le lee
vo vu
hussein husain hussain hossain
mohammed muhammad mohamed mohammad
hassan hasan
rahman rehman
khan kahn
haddad hadad
said saeed sayed
abdullah abdallah
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
FORMAL_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    _parse("\n".join((_TABLE, *_WORLD_TABLES.values())))
)


def formal_names(name: str) -> tuple[str, ...]:
    """The formal names a normalised given name can stand for; the name itself if none."""
    return FORMAL_NAMES.get(name, (name,))


def _family_groups(table: str) -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for line in table.strip().splitlines():
        forms = line.split()
        for name in forms:
            groups.setdefault(name, [])
            if forms[0] not in groups[name]:
                groups[name].append(forms[0])
    return {name: tuple(heads) for name, heads in groups.items()}


_FAMILY_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(_family_groups(_FAMILY_SPELLINGS))


def family_spellings(words: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Keys shared by the romanisations of a family name (Zhang, Chang, Cheung), or none.

    A multi-word name (Nguyen Van, Al Hassan) gives a key only when every word is known."""
    if not words or not all(w in _FAMILY_GROUPS for w in words):
        return frozenset()
    keys = [""]
    for word in words:
        keys = [f"{key} {head}".strip() for key in keys for head in _FAMILY_GROUPS[word]]
    return frozenset(keys)


# Spelling key: a name reduced to what survives being written down by ear in another
# language. NYSIIS and Metaphone encode English spelling; Beider-Morse and Daitch-Mokotoff,
# built for this, have no maintained permissively licensed Python implementation, so this
# short rule set is hand-written: digraphs to one letter (ph f, th t, kh k, sh/sch/ch s),
# c k q to k, z to s, w v b to b (Spanish and German), y to i, silent h dropped, doubled
# letters single, and every vowel after the first letter reduced to one mark, since vowels
# are what romanisations disagree on most (Mohammed, Muhammad; Yusuf, Youssef).
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^a-z]", ""),
        (r"sch|sh|ch|zh|tsch|tch", "s"),
        (r"ph", "f"),
        (r"th", "t"),
        (r"dh", "d"),
        (r"kh", "k"),
        (r"gh", "g"),
        (r"c(?=[eiy])", "s"),
        (r"ck|c|q", "k"),
        (r"x", "ks"),
        (r"z", "s"),
        (r"[wv]", "b"),
        (r"y", "i"),
        (r"(?<=.)h", ""),
        (r"(.)\1+", r"\1"),
    )
)
_VOWEL_RUN = re.compile(r"[aeiou]+")


@functools.lru_cache(maxsize=65536)
def spelling_key(name: str) -> str:
    """A phonetic key for names of many languages ("" for an empty name); see above."""
    key = name
    for pattern, replacement in _SPELLING_RULES:
        key = pattern.sub(replacement, key)
    if not key:
        return ""
    return key[0] + _VOWEL_RUN.sub("a", key[1:])
