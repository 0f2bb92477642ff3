"""Message catalogues (zh_CN source texts, en translations) and the tool that updates them."""
