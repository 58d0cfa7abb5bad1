"""Frontdesk: the system a clinic's Patient Services Officer works in all day."""
