"""A consultant's client organizations at a glance: levels, trends, invitations, next step."""
