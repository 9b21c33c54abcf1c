"""Who is asking, and what they may do.

Every route declares the least role it needs with ``Depends(requires(Role.X))``; the
dependency answers with the caller's :class:`Principal` or raises Unauthorized/Forbidden.
"""

from runyard.server.auth.roles import Principal, Role, requires

__all__ = ["Principal", "Role", "requires"]
