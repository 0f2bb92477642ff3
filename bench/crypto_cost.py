"""CPU cost of sealing personal data at rest (SM4-GCM values, HMAC-SM3 blind indexes).

Times, on this machine's ``cryptography`` / OpenSSL, what the store does per chat update —
the record's conversation state sealed once when the answer is saved and opened once when
the next update restores it, the update's payload sealed into the inbox — with a state of the
size a half-filled 信息采集表 has, and what the roster import does per row (five values
sealed, two blind indexes).

    python -m bench.crypto_cost [--rounds 7] [--repeat 2000]

Prints µs of CPU per operation (median of the rounds); compare with the bot's CPU per
update in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from storage import crypto

STATE = {
    "form_id": "suzhou-canbao-2014",
    "form_version": 1,
    "answers": {
        "filler_role": "self",
        "name": "林晓",
        "id_number": "320503199001011234",
        "mobile": "13812345678",
        "insured_status": "never",
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "320508",
            "road": "人民路",
        },
        "current_status": "unemployed",
        "uninsured_reasons": ["cannot_afford", "unaware"],
    },
    "position": "remarks",
    "history": ["privacy_notice", "filler_role", "name", "id_number", "mobile"] * 3,
}
UPDATE = {
    "update_id": 700000002,
    "message": {
        "message_id": 200,
        "date": 1417000000,
        "chat": {"id": 3603, "type": "private"},
        "from": {"id": 3603, "is_bot": False, "first_name": "林"},
        "text": "人民路 100 号",
    },
}


def _cpu_us(work: Callable[[], object], repeat: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeat):
            work()
        samples.append((time.process_time() - start) / repeat * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    keys = crypto.Keyring.generate()
    state = json.dumps(STATE)
    update = json.dumps(UPDATE)
    sealed_state = keys.encrypt(state, "records.state")

    def per_update() -> None:
        keys.decrypt(sealed_state, "records.state")
        keys.encrypt(state, "records.state")
        keys.encrypt(update, "inbox.payload")

    def per_roster_row() -> None:
        for column in ("name", "id_number", "mobile", "residence_address", "hukou_address"):
            keys.encrypt("苏州市姑苏区人民路 100 号", f"persons.{column}")
        keys.blind_index("id_number", "320503199001011234")
        keys.blind_index("mobile", "13812345678")

    rows = [
        (
            f"seal a state of {len(state.encode())} bytes",
            lambda: keys.encrypt(state, "records.state"),
        ),
        ("open it", lambda: keys.decrypt(sealed_state, "records.state")),
        ("blind index (HMAC-SM3)", lambda: keys.blind_index("id_number", "320503199001011234")),
        ("per chat update (open + seal state, seal update)", per_update),
        ("per roster row (5 values + 2 indexes)", per_roster_row),
    ]
    print("| operation | CPU µs |")
    print("| --- | ---: |")
    for label, work in rows:
        print(f"| {label} | {_cpu_us(work, args.repeat, args.rounds):.1f} |")


if __name__ == "__main__":
    main()
