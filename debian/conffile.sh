#!/bin/sh
# conffile.sh SRC DEST - /etc/memtuned/memtuned.conf of the package: the
# shipped conf/memtuned.conf with every "key = value" line commented out,
# and a note saying so before the first blank line.
set -eu
sed -E -e 's/^([a-z_]+ = )/#\1/' -e '0,/^$/{/^$/i\
#\
# In this file every key is commented out: uncomment a line to change\
# it. The keys left commented take the defaults of the memtuned installed.
}' "$1" >"$2.tmp"
chmod 0644 "$2.tmp"
mv "$2.tmp" "$2"
