"""Resumable, validated photo uploads."""

import uuid

from yiwang.fieldwork.models import PhotoUpload, UploadStatus

from .factories import jpeg_bytes, visit_record

START = "/api/v1/fieldwork/uploads/"


def _start(api, upload_id, size, content_type="image/jpeg"):
    return api.post(START, {"upload_id": str(upload_id), "filename": "a.jpg", "content_type": content_type,
                            "size": size}, format="json")


def _put(api, upload_id, offset, chunk):
    return api.put(f"{START}{upload_id}/", data=chunk, content_type="application/octet-stream",
                   HTTP_UPLOAD_OFFSET=str(offset))


def test_a_photo_uploads_in_chunks_and_resumes_after_a_break(world, api_for):
    api = api_for(world.people.grid_worker)
    data, upload_id = jpeg_bytes(), uuid.uuid4()
    assert _start(api, upload_id, len(data)).status_code == 201
    assert _put(api, upload_id, 0, data[:100]).json()["offset"] == 100
    # The connection broke; the phone asks how far the server got and sends the rest from there.
    assert _start(api, upload_id, len(data)).json()["offset"] == 100
    assert api.get(f"{START}{upload_id}/").json()["offset"] == 100
    wrong = _put(api, upload_id, 0, data[:50])
    assert wrong.status_code == 409 and wrong.json()["offset"] == 100
    done = _put(api, upload_id, 100, data[100:])
    assert done.status_code == 200 and done.json()["status"] == "complete"
    assert PhotoUpload.objects.get().width == 40


def test_a_file_that_is_not_an_image_is_rejected_with_a_message(world, api_for):
    api = api_for(world.people.grid_worker)
    upload_id = uuid.uuid4()
    _start(api, upload_id, 20)
    response = _put(api, upload_id, 0, b"MZ" + b"\0" * 18)
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_an_image"
    assert PhotoUpload.objects.get().status == UploadStatus.REJECTED


def test_wrong_type_or_too_large_is_refused_before_any_byte(world, api_for):
    api = api_for(world.people.grid_worker)
    assert _start(api, uuid.uuid4(), 100, "application/pdf").status_code == 400
    assert _start(api, uuid.uuid4(), 50 * 1024 * 1024).status_code == 400
    assert PhotoUpload.objects.count() == 0


def test_an_upload_is_only_visible_to_its_owner(world, api_for):
    upload_id = uuid.uuid4()
    _start(api_for(world.people.grid_worker), upload_id, 10)
    assert api_for(world.people.staff).get(f"{START}{upload_id}/").status_code == 404
    assert _put(api_for(world.people.outsider), upload_id, 0, b"x").status_code in (403, 404)


def test_a_record_waits_for_its_half_uploaded_photo_and_is_kept(world, field, api_for):
    api = api_for(world.people.grid_worker)
    data, upload_id = jpeg_bytes(), uuid.uuid4()
    _start(api, upload_id, len(data))
    _put(api, upload_id, 0, data[:10])
    record = visit_record(field.households[0], photos=[str(upload_id)])
    result = api.post("/api/v1/fieldwork/sync/", {"records": [record]}, format="json").json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "photo_incomplete"
    _put(api, upload_id, 10, data[10:])
    result = api.post("/api/v1/fieldwork/sync/", {"records": [record]}, format="json").json()["results"][0]
    assert result["status"] == "created"
