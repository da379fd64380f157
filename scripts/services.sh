#!/usr/bin/env bash
# Start the local PostgreSQL and MariaDB if they are down (the tests use them for real).
# Safe to run repeatedly; on a machine without these servers it says so and leaves the decision to
# the tests (which fail in CI, and skip PostgreSQL elsewhere).
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
maria_up() { mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 || mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; }

if command -v pg_isready >/dev/null 2>&1 && ! pg_up; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if command -v pg_isready >/dev/null 2>&1; then
  pg_up && echo "services: PostgreSQL is up" || echo "services: PostgreSQL is NOT reachable on 127.0.0.1:5432"
else
  echo "services: no PostgreSQL client tools on this machine"
fi

if [ -x /usr/sbin/mariadbd ] && ! maria_up; then
  echo "services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 30); do maria_up && break; sleep 1; done
fi
if [ -x /usr/sbin/mariadbd ]; then
  maria_up && echo "services: MariaDB is up" || echo "services: MariaDB is NOT reachable on 127.0.0.1:3306"
fi
exit 0
