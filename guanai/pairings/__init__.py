"""Pairing (结对关爱): which 五老 volunteer cares for which child, and the visits that follow.

DOMAIN.md §4 and §7.
"""
