"""Money in words: an amount in the run's currency (SEGMENTATION_CURRENCY, ISO 4217), per language.

en: £1,234.50, -£12.00, CHF 1,234.50; fr: 1 234,50 £, -12,00 £. Grouping, decimal marks and the
currency's minor digits come from CLDR through Babel. The symbol is the short one English readers
know (£, $, R$, ¥; the code where there is none) in both languages: French CLDR writes "£GB" and
"$US", which the stories do not need since one currency holds for the whole report.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from babel.numbers import format_decimal, get_currency_precision, get_currency_symbol

Language = Literal["en", "fr"]


@cache
def currency_symbol(currency: str) -> str:
    return get_currency_symbol(currency.upper(), locale="en")


def format_money(amount: float, currency: str, language: Language = "en", *, whole: bool = False) -> str:
    """`amount` in `currency`; `whole` rounds to whole units (stories: 'about £88 per order')."""
    digits = 0 if whole else get_currency_precision(currency.upper())
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    number = format_decimal(abs(round(amount, digits)), format=pattern, locale=language)
    symbol = currency_symbol(currency)
    sign = "-" if round(amount, digits) < 0 else ""
    if language == "fr":
        return f"{sign}{number}\u00a0{symbol}"
    space = "\u00a0" if symbol[-1].isalpha() else ""  # CHF 1,234.50 but £1,234.50
    return f"{sign}{symbol}{space}{number}"
