import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    logger.info("python handler called")
    body = {
        "message": f"{os.environ['GREETING']} from Python",
        "function": context.function_name,
    }
    return {"statusCode": 200, "body": json.dumps(body)}
