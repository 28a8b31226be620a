"""The GitHub bot (github3.py): report comments and labels, responder authorisation, issue-form
intake, promotion from a private intake repository, and the issue form itself.

One module per job: client (session and GitHub's errors), artifact (the validate workflow's
untrusted report), comment, labels, authorise, review (the three on one pull request),
issue_form (the form from the schemas), answers (an issue written with it, as a story file),
branch (a pull request from new files, all or nothing) and intake.
"""
