"""Who may use Leanbench when it is shared, and what they may do (issue 17).

Plain Python, no Streamlit: the gate that asks for a credential lives in ``pages/_ui.py`` and
calls this package.

- ``network``: whether the app is served beyond this machine (its bind address);
- ``credentials``: the built-in users file (argon2-hashed tokens or passwords);
- ``lockout``: failed logins per session and per user, with a cool-down;
- ``roles``: viewer and operator, and which actions need which;
- ``limits``: the queue cap and the upload size limit;
- ``roots``: local model folders only under ``LEANBENCH_MODEL_ROOTS`` when shared, no pickles;
- ``redact``: credentials in URLs and messages, hidden;
- ``text``: user text made inert where it is rendered (Markdown) or exported (CSV cells).
"""
