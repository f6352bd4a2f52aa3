"""Issuing into wallets over OpenID4VCI (W3C VC and SD-JWT VC): the offers, grants and
nonces, the wallet endpoints and the holder's pages, and their URLs.
"""
