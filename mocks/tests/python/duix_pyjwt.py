"""Makes DUIX tokens with PyJWT, as a customer's own server would (seed 003, PROTOCOLS.md 5.1).

Usage: duix_pyjwt.py APP_ID APP_KEY NOW_SECS
Prints one JSON object of tokens, each HS256 with claims appId, iat, exp:
  valid        iat NOW, exp NOW+1800
  expired      iat NOW-3600, exp NOW-1800
  other_key    valid times, signed with another key
  extra_claims valid, with the userId and timestamp claims some integrations add
"""
import json
import sys

import jwt


def token(app_id, key, iat, exp, **extra):
    return jwt.encode({"appId": app_id, "iat": iat, "exp": exp, **extra}, key, algorithm="HS256")


def main():
    app_id, key, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps({
        "valid": token(app_id, key, now, now + 1800),
        "expired": token(app_id, key, now - 3600, now - 1800),
        "other_key": token(app_id, key + "-not", now, now + 1800),
        "extra_claims": token(app_id, key, now, now + 1800, userId="u-1", timestamp=now * 1000),
    }))


if __name__ == "__main__":
    main()
