"""Permission strings of the fieldwork app (granted to roles in apps.FieldworkConfig.ready())."""

USE_APP = "fieldwork.use_mobile_app"
ADD_PATROL = "fieldwork.add_patrol"
ADD_VISIT = "fieldwork.add_visit"
CHANGE_VISIT = "fieldwork.change_visit"
VIEW_PATROL = "fieldwork.view_patrol"
VIEW_VISIT = "fieldwork.view_visit"
VIEW_COVERAGE = "fieldwork.view_coverage"
SET_VISIT_SCHEDULE = "fieldwork.change_visitschedule"  # a household's own visit interval (community staff)
