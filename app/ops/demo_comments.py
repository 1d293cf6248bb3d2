"""The demo's rating comments: written about the asset they are on (its kind, product, industry,
stage and title) in the voice of the rep who rates it, so the library reads like people used it."""
from __future__ import annotations

import random

from app.models import Asset, User

# What each kind is used for in a call, and how a rep would name it.
KIND_WORDS = {
    "brochure": "the brochure", "one_pager": "the one-pager", "case_study": "the case study",
    "slide_deck": "the deck", "datasheet": "the datasheet", "messaging": "the talk track",
    "email_template": "the email", "battlecard": "the battlecard", "video_link": "the video",
}

PRAISE = {
    5: ["{account}'s {role} asked for a copy of {thing} after the call.",
        "Opened the {stage} meeting with {thing}; {industry} buyers got it in two minutes.",
        "Best {kind} we have for {industry}. The {product} numbers did the work for me.",
        "Sent {thing} ahead of the {stage} call and the champion forwarded it to their boss."],
    4: ["Good proof points on {product}; I cut the last section for {account}.",
        "Worked for a {stage} call. Would love a version with {industry} logos.",
        "Solid {kind}. The {topic} part landed; the rest I talked through.",
        "Used {thing} with {account}. Clear, a little long for a first call."],
    3: ["Fine as a first touch, too generic for {industry} after that.",
        "OK for {stage}, but {account} wanted numbers for their size, not the averages.",
        "Reads like it was written for another industry; I rewrote the intro for {account}."],
    2: ["The {product} pricing in {thing} is out of date; {account} noticed.",
        "Too long for {stage}: nobody at {account} read past page one.",
        "{topic} section contradicts what product told us last month."],
    1: ["Wrong product names in {thing}; had to apologise to {account}.",
        "Quotes a {product} feature we retired. Do not send this until it is fixed."],
}

# How each demo rep writes: some terse, some chatty, one always signs off with a next step.
VOICES = {
    "rep@example.com": lambda text, rng: text,
    "jordan@example.com": lambda text, rng: text.rstrip(".") + rng.choice([". 👍", "!", ". Thanks, marketing."]),
    "sam@example.com": lambda text, rng: text.split(";")[0].split(". ")[0].rstrip(".").lower() + ".",
    "taylor@example.com": lambda text, rng: text + rng.choice([" Next: the security review.", " Follow-up booked.",
                                                              " Will try it again at renewal."]),
    "morgan@example.com": lambda text, rng: rng.choice(["Honestly: ", "FWIW ", "Quick note: "]) + text[0].lower()
    + text[1:],
}
ROLES = ["CFO", "VP Operations", "IT director", "procurement lead", "COO"]


def comment_for(user: User, asset: Asset, stars: int, account: str, rng: random.Random) -> str:
    """A comment `user` might leave with `stars` on `asset` after using it with `account`."""
    terms = [t.name for t in asset.terms]
    stages = [s.name for s in asset.stages]
    words = {
        "thing": KIND_WORDS.get(asset.kind, "it"), "kind": asset.kind_label.lower(),
        "product": asset.product or "product", "industry": terms[0] if terms else "our",
        "stage": (stages[0] if stages else "discovery").lower(), "account": account or "the customer",
        "role": rng.choice(ROLES), "topic": _topic(asset.title),
    }
    text = rng.choice(PRAISE[stars]).format(**words)
    return VOICES.get(user.email, lambda t, r: t)(text, rng)


def _topic(title: str) -> str:
    """The part of a title that names its subject: "Lumenfold for Hospitals" → "Hospitals"."""
    for joint in (" for ", ": ", " — ", " - "):
        if joint in title:
            return title.split(joint, 1)[1].strip()
    return title
