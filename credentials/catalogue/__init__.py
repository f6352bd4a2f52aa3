"""What institutions offer: the public catalogue of own and partners' offers, its pages,
ESCO skills, and pathways (what they stack, a learner's progress, awarding them).
"""
