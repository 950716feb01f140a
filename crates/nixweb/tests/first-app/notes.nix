req: { body = "notes for ${req.path"; }
