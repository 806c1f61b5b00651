"""Every limit per client address counts an IPv6 /64 as one address (one subscriber
usually holds a whole /64: single addresses in it are free to hop), through one key
(server/core/ratelimit.py address_key): connections, rooms, texts, joins, logins,
registrations and password checks.

Each quota below is filled from some addresses of one /64 and then refused to another
address of it, while another /64 is untouched; one test does it over real IPv6 sockets.
"""

from __future__ import annotations

import pytest

from client_demo.client import Client, ServerError
from server.core.accounts import AllowanceTable, LoginLimits, registrations
from server.core.joinguard import FailedJoins
from server.core.ratelimit import BothKeys, BucketTable, Quota, address_key
from server.net.limits import ConnectionLimits
from server.net.textquota import TextQuota

ONE_64 = [f"2001:db8:1:2::{i:x}" for i in range(1, 40)]
HOPPED = "2001:db8:1:2:ffff:ffff:ffff:fffe"       # the same /64, far away in it
OTHER_64 = "2001:db8:1:3::1"


def test_the_key_is_the_ipv4_address_or_the_ipv6_slash_64():
    assert address_key(ONE_64[0]) == address_key(HOPPED) == "2001:db8:1:2::/64"
    assert address_key(OTHER_64) == "2001:db8:1:3::/64"
    assert address_key("::ffff:10.1.2.3") == address_key("10.1.2.3") == "10.1.2.3"
    assert address_key("10.1.2.3") != address_key("10.1.2.4")
    assert address_key("fe80::1%lo") == "fe80::/64"
    assert address_key("not an address") == "not an address"


def test_connections_per_address_count_a_slash_64_as_one_address():
    limits = ConnectionLimits(max_total=100, max_per_ip=2)
    assert limits.open(ONE_64[0]) is None and limits.open(ONE_64[1]) is None
    assert limits.open(HOPPED) == ConnectionLimits.PER_IP
    assert limits.open(OTHER_64) is None
    limits.close(ONE_64[0])
    assert limits.open(HOPPED) is None                 # one of the /64's closed
    for address in (ONE_64[1], HOPPED, OTHER_64):
        limits.close(address)
    assert limits.by_ip == {} and limits.total == 0


def test_rooms_opened_per_address_count_a_slash_64_as_one_address():
    rooms = Quota(per_min=3, by_address=True)
    assert all(rooms.take(address, 0.0) for address in ONE_64[:3])
    assert not rooms.take(HOPPED, 0.0)
    assert rooms.take(OTHER_64, 0.0)


def test_texts_per_address_count_a_slash_64_as_one_address():
    texts = TextQuota(per_min=9 / 60)                  # 9 an hour, 3 at once
    for i, address in enumerate(ONE_64[:3]):           # a new player each time
        assert texts.spend(f"p{i}", address, 0.0) is None
    assert "your address" in texts.spend("p9", HOPPED, 0.0)
    assert texts.spend("p9", OTHER_64, 0.0) is None


def test_failed_joins_per_address_count_a_slash_64_as_one_address():
    joins = FailedJoins(per_min=1, conn_burst=100, ip_burst=3)
    for address in ONE_64[:3]:
        joins.failed(joins.conn_bucket(0.0), address, 0.0)
    assert not joins.allowed(joins.conn_bucket(0.0), HOPPED, 0.0)
    assert joins.allowed(joins.conn_bucket(0.0), OTHER_64, 0.0)


def test_failed_logins_per_address_count_a_slash_64_as_one_address():
    logins, table = LoginLimits(per_min=1, name_burst=100, ip_burst=3), AllowanceTable()
    for i, address in enumerate(ONE_64[:3]):
        assert table.take(logins.login(f"name{i}", address), 0.0)
    assert not table.take(logins.login("another", HOPPED), 0.0)
    assert table.take(logins.login("another", OTHER_64), 0.0)


def test_registrations_per_address_count_a_slash_64_as_one_address():
    table = AllowanceTable()
    burst = registrations(ONE_64[0])[0].burst
    for i in range(burst):
        assert table.take(registrations(ONE_64[i % len(ONE_64)]), 0.0)
    assert not table.take(registrations(HOPPED), 0.0)
    assert table.take(registrations(OTHER_64), 0.0)


def test_both_keys_are_checked_and_both_charged_or_neither():
    players = BucketTable(1 / 60, 2)
    addresses = BucketTable(1 / 60, 3, by_address=True)
    both = BothKeys(players, addresses)
    assert both.take("ann", ONE_64[0], 0.0) is None
    assert both.take("ann", ONE_64[1], 0.0) is None
    assert both.take("ann", ONE_64[2], 0.0) is players     # ann is out...
    assert both.take("bob", HOPPED, 0.0) is None            # ...and paid nothing for it
    assert both.take("cy", ONE_64[3], 0.0) is addresses     # the /64 is out
    assert both.refusing("cy", OTHER_64, 0.0) is None
    assert both.take("ann", OTHER_64, 60.0) is None         # a minute later, one back


async def test_over_ipv6_sockets_rooms_are_counted_on_the_clients_slash_64(make_server):
    """A real connection from ::1: the quota it fills is its /64's ("::/64")."""
    server = await make_server(host="::1", room_rate=2)
    url = f"ws://[::1]:{server.port}/ws"
    ann, eve = await Client.connect(url, "json"), await Client.connect(url, "json")
    try:
        await ann.hello("Ann")
        await eve.hello("Eve")
        await ann.request({"type": "create_room"})
        await eve.request({"type": "practice"})
        with pytest.raises(ServerError) as refused:
            await ann.request({"type": "practice"})
        assert refused.value.code == "too_many_rooms"
        assert list(server.room_quota.buckets) == ["::/64"]
    finally:
        await ann.close()
        await eve.close()
