"""Draws of who demo customers are: names, gender, birthdays, contacts, addresses, jobs."""

import random
import string
from dataclasses import dataclass

import numpy as np

from kehu.demo.catalogue import STORES
from kehu.demo.names import (
    CUSTOMER_NOTES,
    EMAIL_DOMAINS,
    FEMALE_GIVEN,
    MALE_GIVEN,
    MOBILE_PREFIXES,
    OCCUPATIONS,
    STREETS,
    SURNAMES,
)

GENDERS = ("female", "male", "unknown")
GENDER_SHARES = (0.62, 0.35, 0.03)
INCOME_BANDS = ("", "low", "middle", "high", "very_high")
INCOME_SHARES = (0.45, 0.15, 0.25, 0.11, 0.04)
STATUSES = ("active", "inactive", "blocked")
STATUS_SHARES = (0.985, 0.012, 0.003)


@dataclass(frozen=True)
class People:
    name: list[str]
    gender: list[str]
    birthday: np.ndarray  # days since 1970-01-01, -1 when unknown
    mobile: list[str]
    email: list[str]
    wechat_id: list[str]
    store: np.ndarray  # index into STORES
    district: list[str]
    address: list[str]
    occupation: list[str]
    income_band: list[str]
    status: list[str]
    notes: list[str]
    is_member: np.ndarray


def draw_people(
    rng: np.random.Generator, text_random: random.Random, count: int, today_days: int,
    used_mobiles: set[str],
) -> People:  # fmt: skip
    gender_index = rng.choice(3, size=count, p=GENDER_SHARES)
    store = rng.choice(len(STORES), size=count, p=[spec.share for spec in STORES])
    return People(
        name=draw_names(rng, text_random, gender_index),
        gender=[GENDERS[index] for index in gender_index.tolist()],
        birthday=draw_birthdays(rng, count, today_days),
        mobile=draw_mobiles(rng, count, used_mobiles),
        email=draw_emails(rng, text_random, count),
        wechat_id=[
            "wxid_" + random_word(text_random, 14) if chance < 0.25 else ""
            for chance in rng.random(count).tolist()
        ],
        store=store,
        district=[text_random.choice(STORES[index].districts.split()) for index in store.tolist()],
        address=draw_addresses(rng, text_random, count),
        occupation=[
            text_random.choice(OCCUPATIONS) if chance < 0.5 else ""
            for chance in rng.random(count).tolist()
        ],
        income_band=[INCOME_BANDS[i] for i in rng.choice(5, size=count, p=INCOME_SHARES).tolist()],
        status=[STATUSES[i] for i in rng.choice(3, size=count, p=STATUS_SHARES).tolist()],
        notes=[
            text_random.choice(CUSTOMER_NOTES) if chance < 0.04 else ""
            for chance in rng.random(count).tolist()
        ],
        is_member=rng.random(count) < 0.88,
    )


def draw_names(
    rng: np.random.Generator, text_random: random.Random, gender_index: np.ndarray
) -> list[str]:
    surnames = [name for name, _weight in SURNAMES]
    weights = np.array([weight for _name, weight in SURNAMES])
    surname_index = rng.choice(len(surnames), size=len(gender_index), p=weights / weights.sum())
    names = []
    for surname, gender in zip(surname_index.tolist(), gender_index.tolist(), strict=True):
        given_names = (
            MALE_GIVEN
            if gender == 1 or (gender == 2 and text_random.random() < 0.5)
            else FEMALE_GIVEN
        )
        names.append(surnames[surname] + text_random.choice(given_names))
    return names


def draw_birthdays(rng: np.random.Generator, count: int, today_days: int) -> np.ndarray:
    ages = np.clip(rng.normal(36, 10, size=count), 18, 75)
    birthdays = today_days - (ages * 365.25).astype(np.int64)
    birthdays[rng.random(count) < 0.15] = -1
    return birthdays


def draw_mobiles(rng: np.random.Generator, count: int, used: set[str]) -> list[str]:
    """Unique 11-digit numbers with real carrier prefixes, none already in `used`."""
    mobiles: list[str] = []
    while len(mobiles) < count:
        missing = count - len(mobiles)
        prefixes = rng.choice(np.array(MOBILE_PREFIXES, dtype=np.int64), size=missing)
        numbers = prefixes * 100_000_000 + rng.integers(0, 100_000_000, size=missing)
        for number in numbers.tolist():
            mobile = str(number)
            if mobile not in used:
                used.add(mobile)
                mobiles.append(mobile)
    return mobiles


def draw_emails(rng: np.random.Generator, text_random: random.Random, count: int) -> list[str]:
    domains = [domain for domain, _share in EMAIL_DOMAINS]
    shares = np.array([share for _domain, share in EMAIL_DOMAINS])
    domain_index = rng.choice(len(domains), size=count, p=shares / shares.sum())
    emails = []
    for chance, index in zip(rng.random(count).tolist(), domain_index.tolist(), strict=True):
        if chance >= 0.3:
            emails.append("")
        elif domains[index] == "qq.com":
            emails.append(f"{text_random.randint(10_000, 3_999_999_999)}@qq.com")
        else:
            emails.append(
                f"{random_word(text_random, text_random.randint(5, 10))}@{domains[index]}"
            )
    return emails


def draw_addresses(rng: np.random.Generator, text_random: random.Random, count: int) -> list[str]:
    addresses = []
    for chance in rng.random(count).tolist():
        if chance >= 0.4:
            addresses.append("")
            continue
        street = text_random.choice(STREETS)
        addresses.append(
            f"{street}{text_random.randint(1, 999)}号{text_random.randint(1, 30)}栋"
            f"{text_random.randint(1, 33)}{text_random.randint(1, 4):02d}室"
        )
    return addresses


def random_word(text_random: random.Random, length: int) -> str:
    first = text_random.choice(string.ascii_lowercase)
    rest = text_random.choices(string.ascii_lowercase + string.digits, k=length - 1)
    return first + "".join(rest)
