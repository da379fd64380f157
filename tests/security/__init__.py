"""Attacks on the node as each role would make them; every hole found stays here as a regression test."""
