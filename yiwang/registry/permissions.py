"""Permission strings of the registry, granted to roles in RegistryConfig.ready()."""

VIEW_RESIDENT = "registry.view_resident"  # people, households, housing, rentals, situation log
CHANGE_RESIDENT = "registry.change_resident"  # edit directly
PROPOSE_CHANGE = "registry.propose_change"  # edit through a change request (grid workers)
APPROVE_CHANGE = "registry.approve_change"
REVEAL_PII = "registry.reveal_pii"  # see full ID numbers and phones, with a reason
VIEW_SPECIAL_GROUP = "registry.view_special_group"
VIEW_RESTRICTED_GROUP = "registry.view_restricted_group"  # sensitivity 3 (key persons)
VIEW_ORGANISATION = "registry.view_organisation"
CHANGE_ORGANISATION = "registry.change_organisation"
VIEW_COMPONENT = "registry.view_component"
CHANGE_COMPONENT = "registry.change_component"
ADD_SITUATION = "registry.add_situationlog"
IMPORT = "registry.import"
EXPORT = "registry.export"


def grant_registry_permissions() -> None:
    from yiwang.accounts.roles import Role, grant

    everything = (VIEW_RESIDENT, CHANGE_RESIDENT, APPROVE_CHANGE, REVEAL_PII, VIEW_SPECIAL_GROUP,
                  VIEW_RESTRICTED_GROUP, VIEW_ORGANISATION, CHANGE_ORGANISATION, VIEW_COMPONENT, CHANGE_COMPONENT,
                  ADD_SITUATION, IMPORT, EXPORT)
    grant(Role.ADMIN, *everything)
    grant(Role.STAFF, *everything)
    grant(Role.GRID_WORKER, VIEW_RESIDENT, PROPOSE_CHANGE, VIEW_SPECIAL_GROUP, VIEW_ORGANISATION,
          VIEW_COMPONENT, ADD_SITUATION)
    grant(Role.DISPATCHER, VIEW_RESIDENT, VIEW_ORGANISATION, VIEW_COMPONENT)
    grant(Role.HANDLER, VIEW_COMPONENT)
