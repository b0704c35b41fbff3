"""What the pages share: the studio state and its Qt adapter, worker threads, the event mailbox, grid views, widgets, settings."""
