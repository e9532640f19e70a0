"""Normalisation of identifying keys: e-mail addresses, phone numbers, loyalty numbers.

Each normaliser takes a pandas Series of raw values and returns a Series of normalised
text (missing where the value is missing or unusable) and the count of unusable values.
Work is done on the distinct values only, then spread back to the rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.errors import InvalidParameterError

__all__ = ["KINDS", "normalize_email", "normalize_key", "normalize_loyalty", "normalize_phone",
           "normalize_text"]

# Providers that ignore dots in the local part of an address.
DOT_INSENSITIVE = ("gmail.com", "googlemail.com")
# Domains that are other names of one mailbox provider.
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
# Fewer digits than this cannot be a phone number.
MIN_PHONE_DIGITS = 7


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _on_distinct(values: pd.Series, normalise: Callable[[str], str | None]
                 ) -> tuple[pd.Series, int]:
    """Apply ``normalise`` to each distinct non-missing value; count the unusable ones.

    A value that is blank is missing; one that is not blank but normalises to nothing
    is unusable.
    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"values must be a pandas Series (one key column), got "
                        f"{type(values).__name__}")
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    texts = [_as_text(v) for v in np.asarray(uniques, dtype=object)]
    lookup = np.empty(len(texts) + 1, dtype=object)
    lookup[:-1] = [normalise(t) or None for t in texts]
    lookup[-1] = None
    blank = np.array([not t.strip() for t in texts] + [True], dtype=bool)
    bad_u = pd.isna(lookup) & ~blank
    unusable = int(np.count_nonzero(bad_u[codes]))
    return pd.Series(lookup[codes], index=values.index, dtype="object"), unusable


_SPACE = re.compile(r"\s+")
_NON_DIGIT = re.compile(r"\D")
_SEPARATORS = re.compile(r"[\s\-./]")


def normalize_email(values: pd.Series, *, strip_plus_tags: bool = True,
                    dot_insensitive_domains: tuple[str, ...] | list[str] = DOT_INSENSITIVE,
                    domain_aliases: Mapping[str, str] | None = None
                    ) -> tuple[pd.Series, int]:
    """Normalise e-mail addresses.

    Whitespace and case go; with ``strip_plus_tags`` a ``+tag`` at the end of the local
    part goes (``ann+shop@x.com`` is ``ann@x.com``); dots in the local part go only for
    ``dot_insensitive_domains`` (providers that ignore them); a domain in
    ``domain_aliases`` is replaced by its main name. A value without exactly one ``@``
    and a non-empty local part and domain is unusable (missing in the result, counted).

    Parameters
    ----------
    values : Series
        Raw addresses.
    strip_plus_tags : bool, default True
    dot_insensitive_domains : sequence of str, default ("gmail.com", "googlemail.com")
    domain_aliases : mapping, optional
        Default ``{"googlemail.com": "gmail.com"}``.

    Returns
    -------
    (Series, int)
        Normalised addresses and the number of unusable values.

    Examples
    --------
    >>> import pandas as pd
    >>> got, bad = normalize_email(pd.Series([" Ann.Lee+news@GMail.com", "ann.lee@x.org",
    ...                                       "no-at-sign", None]))
    >>> got.tolist(), bad
    (['annlee@gmail.com', 'ann.lee@x.org', None, None], 1)
    """
    aliases = {str(k).lower(): str(v).lower() for k, v in
               (DOMAIN_ALIASES if domain_aliases is None else domain_aliases).items()}
    dotless = {d.lower() for d in dot_insensitive_domains}
    dotless |= {aliases.get(d, d) for d in dotless}

    def one(text: str) -> str | None:
        text = _SPACE.sub("", text).lower()
        local, at, domain = text.partition("@")
        if not at or not local or not domain or "@" in domain:
            return None
        domain = aliases.get(domain, domain)
        if strip_plus_tags:
            local = local.partition("+")[0]
        if domain in dotless:
            local = local.replace(".", "")
        return f"{local}@{domain}" if local else None

    return _on_distinct(values, one)


def normalize_phone(values: pd.Series, *, default_country_code: str = "1",
                    trunk_prefix: str = "0") -> tuple[pd.Series, int]:
    """Normalise phone numbers to their digits with the country code.

    Everything but digits goes. A number written with ``+`` or ``00`` in front already
    carries its country code; a national number starting with the ``trunk_prefix``
    (``0`` in most of Europe) loses it and gains ``default_country_code``; any other
    number gains ``default_country_code`` unless it already starts with it and has
    more than 10 digits (``1 555 123 4567`` with code ``1``). Fewer than 7 digits is
    unusable (missing in the result, counted).

    Parameters
    ----------
    values : Series
        Raw numbers (text or whole numbers).
    default_country_code : str, default "1"
        Digits of the country code of national numbers.
    trunk_prefix : str, default "0"
        Prefix of national numbers in the default country ("" for none).

    Returns
    -------
    (Series, int)
        Normalised numbers and the number of unusable values.

    Examples
    --------
    >>> import pandas as pd
    >>> got, bad = normalize_phone(pd.Series(["+1 (555) 123-4567", "555.123.4567",
    ...                                       "1-555-123-4567", "0044 20 7946 0018", "12"]))
    >>> got.tolist(), bad
    (['15551234567', '15551234567', '15551234567', '442079460018', None], 1)
    """
    cc = "".join(ch for ch in str(default_country_code) if ch.isdigit())
    if not cc:
        raise InvalidParameterError(
            f"default_country_code must hold digits, got {default_country_code!r}")
    trunk = str(trunk_prefix)

    def one(text: str) -> str | None:
        digits = _NON_DIGIT.sub("", text)
        if len(digits) < MIN_PHONE_DIGITS:
            return None
        if text.lstrip().startswith("+"):
            return digits
        if digits.startswith("00"):
            return digits[2:]
        if trunk and digits.startswith(trunk):
            return cc + digits[len(trunk):]
        if digits.startswith(cc) and len(digits) > 10:
            return digits
        return cc + digits

    return _on_distinct(values, one)


def normalize_loyalty(values: pd.Series) -> tuple[pd.Series, int]:
    """Normalise loyalty or card numbers: upper case, no spaces, dashes, dots or slashes.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_loyalty(pd.Series(["ab-123 456", "AB123456", 99]))[0].tolist()
    ['AB123456', 'AB123456', '99']
    """
    return _on_distinct(values, lambda t: _SEPARATORS.sub("", t).upper())


def normalize_text(values: pd.Series) -> tuple[pd.Series, int]:
    """Normalise any other key: surrounding whitespace and case go.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_text(pd.Series([" X1 ", "x1"]))[0].tolist()
    ['x1', 'x1']
    """
    return _on_distinct(values, lambda t: t.strip().casefold())


KINDS: dict[str, Callable[..., tuple[pd.Series, int]]] = {
    "email": normalize_email,
    "phone": normalize_phone,
    "loyalty": normalize_loyalty,
    "text": normalize_text,
}
# Options each kind takes (the rest of a key's settings).
_OPTIONS = {"email": {"strip_plus_tags", "dot_insensitive_domains", "domain_aliases"},
            "phone": {"default_country_code", "trunk_prefix"}, "loyalty": set(), "text": set()}


def normalize_key(values: pd.Series, rule: Mapping[str, Any]) -> tuple[pd.Series, int]:
    """Normalise one key column by its rule (``{"kind": ..., options}``).

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_key(pd.Series(["A+b@x.com"]), {"kind": "email", "strip_plus_tags": False}
    ...               )[0].tolist()
    ['a+b@x.com']
    """
    kind = rule.get("kind")
    if kind not in KINDS:
        raise InvalidParameterError(f"key kind must be one of {sorted(KINDS)}, got {kind!r}")
    options = {k: v for k, v in rule.items() if k != "kind"}
    unknown = set(options) - _OPTIONS[str(kind)]
    if unknown:
        raise InvalidParameterError(
            f"a key of kind {kind!r} takes the options {sorted(_OPTIONS[str(kind)])}, got "
            f"{sorted(unknown)}")
    return KINDS[str(kind)](values, **options)
