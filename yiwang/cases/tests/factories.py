"""Test data for cases: a small category tree, a sanitation department with a rule, photos."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from yiwang.cases.models import Category, CategoryKind, DispatchRule

BIN_LON, BIN_LAT = 111.105, 37.505  # inside grid_a1 of the test tree
OUTSIDE = (112.0, 38.0)


def jpeg(name="photo.jpg", size=(64, 48), gps=False) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (200, 80, 40))
    buffer = io.BytesIO()
    kwargs = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"
        exif[0x8825] = {1: "N", 2: (37.0, 30.0, 0.0), 3: "E", 4: (111.0, 6.0, 0.0)}
        kwargs["exif"] = exif.tobytes()
    image.save(buffer, "JPEG", **kwargs)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def build_categories(department=None) -> dict:
    """2001 市容环境 > 200102 暴露垃圾 (4 working hours, on the spot) and 200104 道路保洁;
    9001 噪声扰民 > 900101 (7 working days). A rule sends 2001 to `department` automatically."""
    top = Category.objects.create(code="2001", kind=CategoryKind.EVENT, name="市容环境")
    garbage = Category.objects.create(code="200102", parent=top, kind=CategoryKind.EVENT, name="暴露垃圾",
                                      handling_modes=[{"code": "clear", "name": "清运", "limit": 4, "unit": "hours"}],
                                      on_the_spot=True, default_department=department)
    road = Category.objects.create(code="200104", parent=top, kind=CategoryKind.EVENT, name="道路保洁",
                                   handling_modes=[{"code": "clean", "name": "保洁", "limit": 2, "unit": "hours"}])
    noise_top = Category.objects.create(code="9001", kind=CategoryKind.REQUEST, name="噪声扰民")
    noise = Category.objects.create(code="900101", parent=noise_top, kind=CategoryKind.REQUEST, name="生活噪声扰民",
                                    handling_modes=[{"code": "general", "name": "一般", "limit": 7, "unit": "days"}],
                                    attributes=[{"code": "request_type", "datatype": "singlevaluelist",
                                                 "required": True, "order": 1, "description": "诉求类型",
                                                 "values": [{"key": "complaint", "name": "投诉"}]}])
    rule = None
    if department is not None:
        rule = DispatchRule.objects.create(category=top, department=department, auto=True)
    return {"top": top, "garbage": garbage, "road": road, "noise_top": noise_top, "noise": noise, "rule": rule}
