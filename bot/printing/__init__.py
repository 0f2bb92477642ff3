"""Printed paper of the survey's process: the rosters handed to communities (花名册), the
investigators' badges (工作牌), the district work summary (工作总结) and the evaluation table.

Each builder takes plain rows (read by :mod:`storage`) and returns bytes or writes a file; the
console and the CLI read, audit and hand the result out.
"""
