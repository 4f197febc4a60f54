-- What a job input is: an uploaded `file` (bytes in `data`), a web page `url`, or a `sitemap`
-- whose pages are appended to the job as `url` inputs when it is read.
ALTER TABLE job_files ADD COLUMN kind TEXT NOT NULL DEFAULT 'file';
