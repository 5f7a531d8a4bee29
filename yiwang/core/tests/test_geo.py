from yiwang.core.geo import gcj02_to_wgs84, wgs84_to_gcj02


def test_gcj02_round_trip_is_within_a_centimetre_in_lishi():
    lon, lat = 111.1345, 37.5240
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert abs(glon - lon) > 0.003  # the shift is real (hundreds of metres)
    back = gcj02_to_wgs84(glon, glat)
    assert abs(back[0] - lon) < 1e-7 and abs(back[1] - lat) < 1e-7


def test_points_outside_china_are_not_shifted():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
