"""Small geometry helpers for GPS tracks (WGS-84)."""

import math

EARTH_RADIUS_M = 6371008.8
# Samples worse than this (metres) or implying a jump faster than this (m/s) are not counted as
# walked distance: phone GPS in dense housing jumps by tens of metres.
MAX_ACCURACY_M = 80.0
MAX_SPEED_MS = 15.0


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def track_distance_m(track: list) -> float:
    """Walked distance of [lon, lat, epoch_ms, accuracy] samples, skipping inaccurate fixes and jumps."""
    total = 0.0
    previous = None
    for sample in track:
        lon, lat, at = float(sample[0]), float(sample[1]), float(sample[2])
        accuracy = float(sample[3]) if len(sample) > 3 and sample[3] is not None else 0.0
        if accuracy > MAX_ACCURACY_M:
            continue
        if previous is not None:
            step = haversine_m(previous[0], previous[1], lon, lat)
            seconds = max((at - previous[2]) / 1000.0, 0.001)
            if step / seconds > MAX_SPEED_MS:
                continue
            total += step
        previous = (lon, lat, at)
    return round(total, 1)
