"""后台任务: the node's job queue (table `job`) and `govshare worker`, which runs it outside the web process.

docs/jobs.md says how jobs are claimed, retried and watched, and why the queue is ours."""
