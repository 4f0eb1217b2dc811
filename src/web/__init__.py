"""Server-rendered pages for visitors, buyers, ASFs, admins and the presenter."""
