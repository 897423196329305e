# aiosmtpd (Debian's python3-aiosmtpd) as a discard sink for the macro suite (bench/suite.ts):
# every message is accepted and dropped. The hostname is given, because aiosmtpd otherwise calls
# socket.getfqdn() on every connection, which would make the churn case measure name lookups.
# Usage: /usr/bin/python3 bench/aiosmtpd-sink.py PORT
import asyncio
import sys

from aiosmtpd.smtp import SMTP


class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Discard(), hostname="aiosmtpd.invalid"), "127.0.0.1", port)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


asyncio.run(main(int(sys.argv[1])))
