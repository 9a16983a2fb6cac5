"""The rules of the book: what each event type does, and when it is refused.

Two kinds of event, two kinds of answer:

- **Claims** (declaring, shipping, receiving, destroying) change the book. A claim that
  contradicts the book is refused, whoever makes it, with a message naming the item, its
  state and site as the book has them, and what the event claimed.
- **Observations** (tags, seal checks, inventories, samples, verifications) never change
  what the book holds and are never refused for disagreeing with it: they are recorded,
  and the disagreement raises a finding automatically. An observation is refused only
  when it contradicts the observer's own records (a seal that was never applied, an
  inspection closed twice): that is a bad reference, not a discrepancy.

Quantities are compared with ``masses_agree`` at ``AGREEMENT_K`` combined standard
uncertainties. Every claim about an item must be dated no earlier than the item's last
claim, so that the holdings at any moment are the replay of the events dated up to it.

One module per concern: ``declarations`` (sites and declarations), ``seals`` (tags and
seals), ``transfers``, ``inspections`` (inventories, inspections, samples),
``destruction``, ``facilities`` (production facilities), ``findings`` (findings and
estimates) and ``reference`` (documents,
milestones, selections, methods, thresholds); ``common`` holds the steps they share. Each
rule takes the book, the event's context and its typed body; ``cwledger.book.registry``
names the rule of each event type.
"""
