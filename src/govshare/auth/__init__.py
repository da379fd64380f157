"""Authorization: permissions, roles, the acting subject, and the guard every service action passes."""
