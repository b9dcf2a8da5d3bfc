# Django's zh-hans formats do not group digits; shop owners read ¥11,695,174 more easily.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
