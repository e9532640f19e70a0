"""Identify: one ``customer_key`` per person across source ids, e-mails and phones.

* :func:`resolve_identities` - deterministic linkage on normalised keys, connected
  components, a size limit against shared keys; returns an :class:`IdentityResolution`
  (``mapping``, ``clusters``, ``report``, ``settings``) that links new records with
  :meth:`~IdentityResolution.update` (existing keys stay), remaps a
  :class:`~crmmodels.data.CRMData` with :meth:`~IdentityResolution.apply`, and saves;
* :func:`normalize_email`, :func:`normalize_phone`, :func:`normalize_loyalty`,
  :func:`normalize_text` - the key normalisers, usable on their own.

Examples
--------
>>> import pandas as pd
>>> from crmmodels.identity import resolve_identities
>>> res = resolve_identities(pd.DataFrame({"customer_id": [1, 2],
...                                        "email": ["a@x.com", "A@X.COM "]}))
>>> res.report.people
1
"""

from crmmodels.identity._normalize import (
    normalize_email,
    normalize_loyalty,
    normalize_phone,
    normalize_text,
)
from crmmodels.identity.resolve import (
    DEFAULT_KEYS,
    IdentityReport,
    IdentityResolution,
    default_rule,
    resolve_identities,
)

__all__ = [
    "DEFAULT_KEYS",
    "IdentityReport",
    "IdentityResolution",
    "default_rule",
    "normalize_email",
    "normalize_loyalty",
    "normalize_phone",
    "normalize_text",
    "resolve_identities",
]
