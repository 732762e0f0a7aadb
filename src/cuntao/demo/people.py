"""Generated people for the demo and synthetic networks: plausible, never real.

Households follow the shape of a "386199 village": working-age men (and many women)
away in city factories, so those at home are mostly women, children and people over 60,
with relatives in the cities sending money home.
"""

import random
from dataclasses import dataclass, field

from cuntao.core.validators import national_id_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
FEMALE_CHARS = "秀英兰芳玉珍桂花梅凤霞丽娟敏静芬燕红云琴莲翠华萍秋菊香淑慧春金"
MALE_CHARS = "国建明华志军伟强平德成福生永海林东文俊祥荣贵富宝山全兴发忠义才"
CHILD_CHARS = "子涵梓轩浩宇欣怡雨萱一诺思远佳琪俊杰博文语嫣晨曦天佑若溪可馨宇航"
CITIES = ["深圳", "上海", "杭州", "广州", "苏州", "东莞", "宁波", "合肥", "武汉", "北京", "厦门", "温州"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "156", "157", "158", "159", "177", "180", "181", "182", "183", "186", "187", "188", "189"]


@dataclass
class Person:
    name: str
    birth_year: int
    gender: str
    phone: str = ""
    national_id: str = ""
    needs_large_print: bool = False
    needs_voice: bool = False


@dataclass
class Relative:
    name: str
    phone: str
    city: str
    relation: str


@dataclass
class HouseholdPlan:
    name: str
    members: list[Person] = field(default_factory=list)
    relatives: list[Relative] = field(default_factory=list)  # attached to the first member


class PeopleGenerator:
    """Draws households from one random.Random, so a seed gives the same village."""

    def __init__(self, rng: random.Random, *, this_year: int, id_region: str):
        """id_region: the 6-digit region code that starts the ID numbers of this county."""
        self.rng = rng
        self.this_year = this_year
        self.id_region = id_region

    def name(self, surname: str, gender: str, *, child: bool = False) -> str:
        chars = CHILD_CHARS if child else (FEMALE_CHARS if gender == "female" else MALE_CHARS)
        given = self.rng.choice(chars) + (self.rng.choice(chars) if self.rng.random() < 0.7 else "")
        return surname + given

    def phone(self) -> str:
        return "+86" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def national_id(self, birth_year: int, gender: str) -> str:
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        seq = self.rng.randrange(100) * 10 + self.rng.choice((1, 3, 5, 7, 9) if gender == "male" else (0, 2, 4, 6, 8))
        first17 = f"{self.id_region}{birth_year:04d}{month:02d}{day:02d}{seq:03d}"
        return first17 + national_id_check_char(first17)

    def person(self, surname: str, gender: str, age: int, *, child: bool = False) -> Person:
        year = self.this_year - age
        old = age >= 60
        p = Person(name=self.name(surname, gender, child=child), birth_year=year, gender=gender)
        if not child and self.rng.random() < (0.55 if old else 0.95):
            p.phone = self.phone()
        if not child and self.rng.random() < 0.3:
            p.national_id = self.national_id(year, gender)
        p.needs_large_print = old and self.rng.random() < 0.6
        p.needs_voice = old and self.rng.random() < 0.35
        return p

    def relative(self, surname: str, relation: str) -> Relative:
        gender = "female" if relation == "daughter" else "male"
        return Relative(name=self.name(surname, gender), phone=self.phone(), city=self.rng.choice(CITIES),
                        relation=relation)

    def household(self) -> HouseholdPlan:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        plan = HouseholdPlan(name=surname + "家")
        kind = rng.random()
        if kind < 0.35:  # grandparents raising left-behind grandchildren
            plan.members.append(self.person(surname, "female", rng.randint(58, 78)))
            if rng.random() < 0.6:
                plan.members.append(self.person(surname, "male", rng.randint(60, 82)))
            for _ in range(rng.randint(1, 2)):
                plan.members.append(self.person(surname, rng.choice(("female", "male")), rng.randint(3, 14), child=True))
            plan.relatives.append(self.relative(surname, "son"))
            if rng.random() < 0.5:
                plan.relatives.append(self.relative(surname, "daughter"))
        elif kind < 0.60:  # a mother at home with children, the husband in a city
            plan.members.append(self.person(surname, "female", rng.randint(26, 48)))
            for _ in range(rng.randint(1, 2)):
                plan.members.append(self.person(surname, rng.choice(("female", "male")), rng.randint(1, 16), child=True))
            if rng.random() < 0.4:
                plan.members.append(self.person(surname, "female", rng.randint(62, 85)))
            plan.relatives.append(self.relative(surname, "spouse"))
        elif kind < 0.85:  # old people alone
            plan.members.append(self.person(surname, rng.choice(("female", "male")), rng.randint(62, 90)))
            if rng.random() < 0.5:
                plan.members.append(self.person(surname, "female", rng.randint(60, 86)))
            plan.relatives.append(self.relative(surname, rng.choice(("son", "daughter"))))
        else:  # a family that stayed to farm
            plan.members.append(self.person(surname, "male", rng.randint(30, 58)))
            plan.members.append(self.person(surname, "female", rng.randint(28, 56)))
            if rng.random() < 0.7:
                plan.members.append(self.person(surname, rng.choice(("female", "male")), rng.randint(2, 17), child=True))
        return plan

    def households(self, villagers: int) -> list[HouseholdPlan]:
        """Households until there are exactly `villagers` people."""
        plans, count = [], 0
        while count < villagers:
            plan = self.household()
            plan.members = plan.members[: villagers - count]
            plans.append(plan)
            count += len(plan.members)
        return plans
