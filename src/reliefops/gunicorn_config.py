"""gunicorn's settings for reliefops: `gunicorn reliefops.wsgi --config python:reliefops.gunicorn_config`.

The access log is written to standard error (the journal, under systemd) without the query string
of each address and without the referring page: a search typed in a list (a name, an identity
number, a phone) travels in the address, and is not to be kept in a log that people without the
right to personal data read. Each line: the client, the time, the method, the path without its
query, the protocol, the status, the size and the seconds taken.
"""

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
