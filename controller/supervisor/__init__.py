"""The control loop: snapshot -> estimate -> protect -> mode -> dispatch -> outputs -> record."""
