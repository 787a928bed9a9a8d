"""The Web API methods the stand-in answers, by name."""

from __future__ import annotations

from emulator.slack import chat, files, socket_mode, views
from emulator.slack.common import Method

METHODS: dict[str, Method] = {
    "api.test": lambda ctx, args: {"args": {k: v for k, v in args.items() if k != "token"}},
    "apps.connections.open": socket_mode.apps_connections_open,
    "auth.test": chat.auth_test,
    "chat.postMessage": chat.chat_post_message,
    "chat.postEphemeral": chat.chat_post_ephemeral,
    "chat.update": chat.chat_update,
    "chat.delete": chat.chat_delete,
    "chat.getPermalink": chat.chat_get_permalink,
    "conversations.history": chat.conversations_history,
    "conversations.info": chat.conversations_info,
    "conversations.join": chat.conversations_join,
    "conversations.open": chat.conversations_open,
    "users.info": chat.users_info,
    "views.open": views.views_open,
    "views.push": views.views_push,
    "views.update": views.views_update,
    "views.publish": views.views_publish,
    "files.getUploadURLExternal": files.files_get_upload_url_external,
    "files.completeUploadExternal": files.files_complete_upload_external,
}

NO_AUTH = {"api.test"}
APP_LEVEL = {"apps.connections.open"}  # the app-level token (xapp-…), and only it
