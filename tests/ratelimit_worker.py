"""One sending process for tests/test_ratelimit_shared.py. It connects, prints `ready`,
reads the wall-clock start time from its standard input, and from then on takes tokens as
fast as the shared limiter allows, for a few chats, asking for each when the limiter said
it would have a token (BATCH of them at once with `take_many`, as the sender takes for a
claim), printing every grant as `chat seconds`
(the clock reading the limiter decided on).

    python -m tests.ratelimit_worker URL DURATION BATCH CHAT...
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from bot.rates import PlatformLimits, Rate
from bot.store import db
from scheduler.ratelimit import Contended, RateLimiter

# Small numbers, so a short run shows whether three processes together stay within them.
LIMITS = {"telegram": PlatformLimits(overall=Rate(20.0, burst=5.0), direct=Rate(2.0),
                                     group=Rate(2.0))}
JITTER = 0.03  # seconds
SENDING = 0.03  # seconds, at least, that a process is busy sending after a grant


async def main(url: str, duration: float, batch: int, chats: list[str]) -> None:
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    seen = [0.0]

    def clock() -> float:
        seen[0] = time.time()
        return seen[0]

    limiter = RateLimiter(clock, LIMITS, sessions=sessions)
    await limiter.held_back()  # connected and the table is there
    print("ready", flush=True)
    begin = float(await asyncio.to_thread(sys.stdin.readline))
    await asyncio.sleep(max(0.0, begin - time.time()))
    # Like the sender: of the chats whose tokens are due (a refusal says when), ask for
    # up to BATCH in this process's own order of them (processes claim different
    # messages), and else wait for the first to come due. Each comes a few random
    # milliseconds late and is busy a moment after a grant, as a sender is with its sends,
    # so which process is first at a shared moment is chance, not which one the machine
    # happens to wake first every time.
    free_at = {chat: begin for chat in chats}
    try:
        while (now := time.time()) < begin + duration:
            wanted = [chat for chat in chats if free_at[chat] <= now][:batch]
            if not wanted:
                await asyncio.sleep(min(free_at.values()) - now + random.uniform(0.0, JITTER))
                continue
            try:
                waits = (await limiter.take_many([("telegram", chat, True) for chat in wanted])
                         if batch > 1 else [await limiter.take("telegram", wanted[0], True)])
            except Contended:
                continue
            for chat, wait in zip(wanted, waits, strict=True):
                free_at[chat] = seen[0] + wait
                if wait == 0:
                    print(chat, repr(seen[0]), flush=True)
            if 0 in waits:  # sending what it was granted takes a moment
                await asyncio.sleep(random.uniform(SENDING, 2 * SENDING))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]))
