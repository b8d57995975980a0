"""Administration: emergencies declared and ended under an MOU's ``emergency`` section."""
