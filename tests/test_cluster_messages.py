"""Bus records survive the bus: what one process sends is what the other reads."""

from server.cluster.messages import (TAGS, Back, Batch, Close, Dropped, Frames, Left, Measure,
                                     Member, Rating, Request, Rtt, decode, encode)


def test_every_record_kind_round_trips_inside_a_batch_and_alone():
    items = [Frames(True, b"\x82\x01", ["p1", "p2"]), Frames(False, '{"type":"tick"}', ["p3"]),
             Member("p1", "node-a"), Member("p2", None), Close("p1", 4000, "replaced"),
             Request("p1", "Ann", "typerace.v1.msgpack", {"type": "input", "keys": "ab"},
                     None, "127.0.0.1"),
             Request("p2", "Bob", None, {"type": "quick_race"}, "r1", "10.0.0.2", 87.5),
             Rating("p2", 91.25), Rating("p3", None), Measure("p1"), Rtt("p1", 301.5)]
    batch = Batch("node-b", items)
    assert decode(encode(batch)) == batch
    assert [type(item) for item in decode(encode(batch)).items] == [type(i) for i in items]
    for record in (Dropped("node-b", "p1"), Left("node-b", "p1"),
                   Back("node-b", "p1", "Ann", None)):
        back = decode(encode(record))
        assert type(back) is type(record) and back == record


def test_each_kind_has_its_own_tag():
    assert len(set(TAGS.values())) == len(TAGS)
