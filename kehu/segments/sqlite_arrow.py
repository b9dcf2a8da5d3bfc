"""Read a query's rows from an SQLite file as Arrow, in a process of its own.

`python -m kehu.segments.sqlite_arrow DATABASE TARGET` reads the query on standard input and
writes the rows to TARGET as an Arrow IPC file. ADBC's SQLite driver carries its own copy of
the SQLite library; two copies in one process break each other's POSIX file locks, and when
ADBC's connection closes it may remove the write-ahead log that Django's connection still has
mapped, killing the process with SIGBUS (seen with the 200,000-customer demo). In a separate
process SQLite's locking works as designed. This module imports no Django.
"""

import sys


def write_query_as_arrow(database: str, query: str, target: str) -> int:
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    with adbc.connect(database) as connection:
        cursor = connection.cursor()
        try:
            cursor.execute(query)
            table = cursor.fetch_arrow_table()
        finally:
            cursor.close()
    with pa.OSFile(target, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return int(table.num_rows)


if __name__ == "__main__":
    write_query_as_arrow(sys.argv[1], sys.stdin.read(), sys.argv[2])
