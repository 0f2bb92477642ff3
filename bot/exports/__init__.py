"""Exports of the collected data: the 采集表 as XLSX / CSV, the employers list, one record as PDF.

Pure writers over rows from :mod:`storage.reporting`; the console's views add scope and audit.
"""
