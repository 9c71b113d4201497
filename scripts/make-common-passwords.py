#!/usr/bin/env python3
"""Writes Portal/SignIn/common-passwords.txt: passwords that are refused because everyone guesses them first.

The list is made here from public knowledge of what people choose (the words, numbers and keyboard walks that top
every published "worst passwords" survey, the Chinese favourites such as 5201314 and woaini1314, and the way people
stretch them to meet a length rule: a capital first letter, a year, "@123", "!"), not copied from any list file.
Only entries of 8 characters or more are kept: shorter ones are refused by the length rule anyway.
Run: python3 scripts/make-common-passwords.py
"""
import itertools
import os

WORDS = """
password passw0rd p@ssword p@ssw0rd pass admin administrator root guest test tester user login welcome demo
letmein changeme default secret master manager system server access qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm
iloveyou loveyou lovely love monkey dragon football baseball basketball soccer hockey tennis golf sunshine
princess shadow superman batman spiderman starwars pokemon naruto trustno1 freedom whatever hello hello123
charlie michael jennifer jordan thomas robert daniel andrew joshua matthew jessica ashley amanda michelle
nicole maggie buster tigger ginger summer winter autumn spring flower cheese cookie chocolate banana orange
apple computer internet samsung iphone google facebook youtube microsoft windows linux ubuntu oracle mysql
liverpool arsenal chelsea barcelona madrid united killer hunter ranger pepper mustang harley ferrari porsche
blessed jesus angel angels heaven family friends forever happy smile sweet honey baby babygirl pretty
beautiful butterfly rainbow purple yellow silver golden diamond crystal phoenix tiger lion eagle wolf
school student teacher teachers classroom campus safety security police alarm camera portal office company
china zhongguo beijing shanghai qingdao shandong guangzhou shenzhen tianjin chongqing hangzhou nanjing
woaini woaini1314 woainima woaiwojia aini1314 wangwang nihao nihao123 haoren xiaoming xiaohong xiaoli
zhangsan lisi wangwu laoshi xuexiao xiaozhang jiaoyu jingcha baojing anquan mima mima123 yonghu guanliyuan
wang zhang liu chen yang huang zhao zhou wu xu sun ma zhu hu guo he lin gao luo zheng liang
qazwsx qazwsxedc 1qaz2wsx zaq12wsx zaq1zaq1 1q2w3e4r 1q2w3e 1q2w3e4r5t q1w2e3r4 abcd abc abcdef
""".split()

NUMBERS = """
123456 1234567 12345678 123456789 1234567890 0123456789 12345 1234 123 654321 987654321 9876543210
111111 11111111 000000 00000000 666666 888888 999999 121212 123123 112233 123321 147258 147258369
159357 159753 135246 246810 369258 520520 5201314 1314520 1314 520 168168 518518 110110 119119 7758521
""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "!!", "@", "#", "1!", "123!", "@123", "#123",
            "!@#", "!@#$", "@1234", ".123", "_123", "520", "1314", "5201314", "888", "666", "000", "007", "01",
            "2008", "2010", "2012", "2015", "2018", "2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026",
            "@2020", "@2021", "@2022", "@2023", "@2024", "@2025", "@2026", "!2024", "!2025", "!2026", "#2025",
            "#2026"]

WALKS = """
1qaz2wsx3edc 1qaz2wsx3edc4rfv qazwsxedcrfv qazwsxedcrfvtgb 1q2w3e4r5t6y 1q2w3e4r5t6y7u q1w2e3r4t5y6
qwertyuiop12 qwertyuiop123 qwertyuiopasdf asdfghjkl123 asdfghjkl;' zxcvbnm12345 zxcvbnm123456 1234qwerasdf
1234qwerasdfzxcv qwer1234asdf qwerasdfzxcv qweasdzxc123 qweasdzxc1234 !qaz2wsx#edc !qaz@wsx#edc 1qaz@wsx#edc
1qaz!qaz1qaz zaq12wsxcde3 zaq1xsw2cde3 mnbvcxz12345 poiuytrewq12 0987654321qw abc123456789 abcd12345678
abcdefgh1234 abcdefghijkl aa123456789 a123456789 a1234567890 a1b2c3d4e5f6 1a2b3c4d5e6f qq123456789
wo123456789 asd123456789 zxc123456789 qwe123456789 qweqweqweqwe asdasdasdasd zxczxczxczxc aaaaaaaaaaaa
""".split()

LEET = str.maketrans({"a": "@", "o": "0", "s": "$", "i": "1", "e": "3"})


def variants(base):
    """The ways people stretch one base word to pass a length or character rule."""
    forms = {base, base.capitalize(), base.upper(), base.translate(LEET), base.capitalize().translate(LEET)}
    for form in forms:
        for suffix in SUFFIXES:
            yield form + suffix
        yield form + form  # doubled: "passwordpassword"


def main():
    out = set()
    for word in WORDS + NUMBERS:
        out.update(variants(word))
    for a, b in itertools.product(WORDS[:80], NUMBERS[:25]):
        out.add(a + b)
        out.add(a.capitalize() + b)
        out.add(a.capitalize() + "@" + b)
    for walk in WALKS:
        out.update({walk, walk.upper(), walk.capitalize()})
    for digit in "0123456789":
        for n in range(8, 17):
            out.add(digit * n)
    for n in range(8, 17):
        out.add("".join(str((i + 1) % 10) for i in range(n)))  # 1234567890123...
        out.add("".join(str((9 - i) % 10) for i in range(n)))  # 9876543210987...
    kept = sorted({p.lower() for p in out if len(p) >= 8 and p.isprintable()})
    path = os.path.join(os.path.dirname(__file__), "..", "Portal", "SignIn", "common-passwords.txt")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("# Refused passwords (compared without case). Made by scripts/make-common-passwords.py; edit that, not this.\n")
        for p in kept:
            f.write(p + "\n")
    print(f"{len(kept)} passwords written to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
