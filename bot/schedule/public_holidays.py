"""The Dutch public holidays (feestdagen): closed days for every partnership by default.

The dates come from the maintained `holidays` package (country NL, category public), not
from a list of our own: Easter and everything that hangs from it (Goede Vrijdag, Pasen,
Hemelvaartsdag, Pinksteren) moves every year, and Koningsdag moves to Saturday when
27 April is a Sunday. Its NL calendar (checked in versions 0.105 and 0.109) has all of
these as public holidays, Goede Vrijdag included (so we add nothing by hand), and
Bevrijdingsdag in lustrum years only (2030, 2035, ...; every year only in its "optional"
category, which we do not use): the days most schools close. A test checks every day we
rely on, so an upgrade that drops or moves one fails loudly.

The package names a holiday in Dutch (its own source text, which does not change with the
locale); we map that name to our own id, and the words shown to people live in
`content/holidays.yaml`.
"""

from __future__ import annotations

from datetime import date
from functools import cache

# The package's Dutch name -> our id (the key of its name in content/holidays.yaml).
IDS = {
    "Nieuwjaarsdag": "nieuwjaarsdag",
    "Goede vrijdag": "goede_vrijdag",
    "Eerste paasdag": "eerste_paasdag",
    "Tweede paasdag": "tweede_paasdag",
    "Koningsdag": "koningsdag",
    "Bevrijdingsdag": "bevrijdingsdag",
    "Hemelvaartsdag": "hemelvaartsdag",
    "Eerste pinksterdag": "eerste_pinksterdag",
    "Tweede pinksterdag": "tweede_pinksterdag",
    "Eerste kerstdag": "eerste_kerstdag",
    "Tweede kerstdag": "tweede_kerstdag",
}
# A name the package adds later and we do not know yet: still a closed day, shown with a
# general word ("feestdag") until someone adds it here and in the content.
OTHER = "feestdag"


@cache
def public_holidays(year: int) -> dict[date, str]:
    """Every Dutch public holiday of `year`: day -> our id."""
    import holidays as holiday_data  # slow to import: only when a year is first asked for

    found = holiday_data.country_holidays("NL", years=year, language="nl")
    return {day: IDS.get(found.get_list(day)[0], OTHER) for day in sorted(found)}


def public_holiday_on(day: date) -> str | None:
    """The id of the public holiday on `day`, if it is one."""
    return public_holidays(day.year).get(day)
