"""A loopback SMTP server for the SMTP delivery test.

Usage: python3 smtp_sink.py PORT OUTFILE

Accepts every message on 127.0.0.1:PORT and appends it to OUTFILE as one JSON object per line
({"from", "to", "data"}). Prints "ready" once it accepts connections and runs until killed.
"""

import json
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    controller = Controller(Sink(sys.argv[2]), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
