"""Whether a declaration's threat is written in words: FERPA 34 CFR 99.36(c) requires an "articulable and
significant threat", recorded with the disclosure (99.32(a)(5)). A length is not that test (``aaaa bbbb cccc
dddd`` is long enough); words are: the text must use at least ``emergencies.min_threat_known_words`` different
English words beyond the small ones (``the``, ``in``, ``a``), and more than half of its words must be English (names,
room numbers and codes may make up the rest). Dispatch shorthand (``rm``, ``bldg``, ``susp``, ``w``) counts as
English. The vocabulary below is small and embedded: common English and the
words of emergencies, people and places, with plain endings (``-s``, ``-ed``, ``-ing``, ``-ly``, ``-er``) recognised.

The 422 says the rule and what was found. A trigger's threat is not checked here: the broker writes it itself
from the configured source, device and event (:mod:`broker.admin.triggers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from broker.errors import InvalidRequest

#: Words too small to say anything alone: counted as English, not towards the different words required.
_SMALL = """
    a an the and or but nor so yet if then than that this these those there here of in on at to from by with
    without into onto over under up down out off about near for as is are was were be been being am do does did
    has have had will would shall should can could may might must it its he she they them him her his their our
    we us you your i me my mine who whom whose which what when where why how not no yes all any some each every
    other another such own same very too also just only again still even ever never now
"""
SMALL = frozenset(_SMALL.split())

_WORDS = """
    accident active activity address adult afraid after afternoon against age aggressive agitated ago ahead aid
    air alarm alert alley alone along already ambulance ammunition angry animal apartment appear approach area
    arm armed arrest arrive assault assist attack attempt attend auditorium authority available avenue away
    back backpack bag band bank bar barricade baseball basement basketball bat bathroom bear beat bed before
    begin behind believe bell belt beside between big bike black bleed blind block blood blue board boat body
    bomb book booth bottle box boy brandish break breathe brick bridge bright bring broken brother brown build
    building bullet burn burglar burglary bus business buy cafeteria call caller calm camera campus car card
    care carry cart case cause ceiling cell center chase check chemical chest child children choke church
    circle city classroom clean clear climb clinic close closet clothes club coach coat code collapse college
    come common complain confirm confront contact continue control cook corner corridor counselor county court
    courtyard cover crash crawl crazy crime crisis critical crowd cry custody cut damage danger dangerous dark
    daughter day dead deal death deliver department describe description desk device die direction disturbance
    district doctor dog door dorm down drink drive driver drop drug during east eat elevator emergency employee
    empty end enter entrance entry escape evacuate event exit explode explosion explosive extinguisher face
    faculty fall family father fear female fence field fight find fire firearm first flee floor follow foot
    force forced front gang garage gas gate get girl give glass go good grab ground group guard guest gun
    gunfire gunman gunshot gym gymnasium hair half hall hallway hand handgun hang harm hat head health hear
    heard help hide high hill hit hold hole home hospital hostage hour house hurt ill immediate injure injury
    inside instructor intend intruder investigate iron jacket keep kick kill knife know lab lawn leave left
    library life light line lobby lock lockdown locker look lost lot loud low main male man medical meet men
    mental minute missing morning mother move name need neighbor night noise north nurse office officer old
    open outside overdose pain parent park parking party pass patrol people person phone pistol place play
    playground point poison police pool possible post potential press principal property pull punch push
    question quick radio raise ran rear receive recent refuse remain report reported resident restroom return
    rifle right road robbery roof room run running safe safety said saw say scared scene school scream search
    secretary security see seen seize seizure send serious severe shelter shoot shooter shooting shop shot
    shout show sick side sidewalk sign sit site smell smoke someone something son south space speak spray
    stab stadium staff stair stairs stairwell stand start station stay steal step stolen stop store street
    strike student suicidal suicide suspect suspicious take talk teacher teen tell theft threat threaten
    threatening throw tire toilet told took track traffic trapped truck try turn unconscious unknown unlock
    van vehicle victim violence violent visitor wall want warning watch water weapon wear west white window
    wing witness woman women wound wounded yard yell young youth zone
    able across actual admit allow almost already always angry answer anyone anything around ask attention
    bad because become believe best better big black both bring call came car careful carried caught certain
    change clear close come could cross current dead describe different done door early either else enough
    entire escaped ever exactly face fast feel few fine follow found four free friend full gave given gone
    great green grey guy happen happened hard heavy hour huge hurt keep kind large last late later leave less
    let likely little live long lose made make many maybe mean might more most much must next nobody none
    nothing number often once one only onto orange other past pink plan please pulled purple put quickly rather
    real reason red reach ready said second seem several short shortly shown since single six slow small soon
    speed stated still story sure take tall ten thin think three through time today together tomorrow tonight
    toward two upon upper usual walk wanted way weapon week well went while whole wide wore yesterday
    act action aid alcohol apparent arson art assistance attacker baby band bathroom beaten bite bleeding blocked
    boiler bought bound brought bruise bulletin bullied bully burning cabinet caretaker carjack chemistry chair
    chose class classmate clerk cocaine collapsed computer concern conscious cop corridor couch counter cousin
    crisis custodian cutting dad dangerous daycare dean defend deputy detention diabetic dispatcher dispute
    distress domestic drew drill drove drunk dumpster elementary entered erratic evening exchange expelled
    explain fainted fallen feet fence fever fight fired fled fleeing flood football forth fought fourth friend
    front gas grade grabbed gymnasium harass harassment heart heat helicopter hid history hung husband
    injured intoxicated jump kid kidnap kitchen ladder lane law leak lied loop lunch machete mall manager map
    math middle mom music nervous news note nurse ongoing pack package paramedic parent path patient period
    pills playing pointed porch portable progress punched rage ran rape recess relative reportedly rescue
    restrain riot rock rode room rope science screaming seat shaking sheriff shirt shoes shove sister sixth
    smash sniper spill spilled staircase stole storm stranger stranded struck stuck substitute suffer
    swimming sword tackle teenager text thief third threw tired trespass trespasser truck unresponsive
    upset vandal vandalism vape wandering wife worker wrestle year
"""
#: Dispatch shorthand, as typed on a CAD screen in a hurry ("Kid w knife rm 12 bldg B"): English words too.
_SHORTHAND = """
    w wo rm rms bldg bldgs blk st ave rd hwy ln apt fl flr lvl dept hs ms es elem susp veh wpn wpns gsw ofc ofcr
    pd fd ems sro yo yr yrs approx info req unk poss hx pt pts lt rt nb sb eb wb btwn vic vics sec secs min mins
    perp juv juvs mvc mva emt ppl
"""
#: The vocabulary (lower case, base forms); SMALL words and shorthand are in it too.
VOCABULARY = frozenset(_WORDS.split()) | SMALL | frozenset(_SHORTHAND.split())

_TOKEN = re.compile(r"[a-z]+")
_ENDINGS = (
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("ing", "e"),
    ("ed", ""),
    ("ed", "e"),
    ("es", ""),
    ("s", ""),
    ("ly", ""),
    ("er", ""),
    ("ers", ""),
    ("est", ""),
    ("ment", ""),
    ("ness", ""),
    ("ion", ""),
    ("ion", "e"),
)


def base_word(word: str) -> str | None:
    """``word``'s base form if it is English by :data:`VOCABULARY` (``stabbed`` -> ``stab``), else None."""
    if word in VOCABULARY:
        return word
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            stem = word[: -len(ending)]
            if stem + replacement in VOCABULARY:
                return stem + replacement
            if not replacement and len(stem) >= 3 and stem[-1] == stem[-2] and stem[:-1] in VOCABULARY:
                return stem[:-1]  # a doubled consonant: stabbed, running
    return None


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower case (apostrophes dropped: ``school's`` is ``schools``)."""
    return _TOKEN.findall(text.lower().replace("'", "").replace("\u2019", ""))


def recognised(words: Iterable[str]) -> list[str]:
    return [b for w in words if (b := base_word(w)) is not None]


def check_threat(text: str, min_known: int) -> None:
    """Raise InvalidRequest (``threat``) unless ``text`` articulates something in English words (module docstring)."""
    words = words_of(text)
    known = recognised(words)
    different = sorted({w for w in known if w not in SMALL})
    # FERPA 34 CFR 99.36(c): an articulable threat; filler such as "aaaa bbbb cccc dddd" articulates nothing.
    if len(different) < min_known or 2 * len(known) <= len(words):
        raise InvalidRequest(
            "threat must articulate the significant threat in words (34 CFR 99.36(c)): say what is happening and "
            "where, e.g. 'Caller reports an armed intruder in the front office'. The rule: at least "
            f"{min_known} different English words beyond small ones like 'the' or 'in', and more than half of all "
            f"words English; found {len(different)} such words, and {len(known)} English words of {len(words)}",
            field="threat",
            reason="threat_not_articulated",
        )
