"""Message catalogues: zh_CN source texts and en translations.

Update them from the code with ``python -m bot.locales.update``.
"""
