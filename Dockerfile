# The app, as docker-compose.yml runs it: Python 3.11, the dependencies, a user of its own,
# and bin/start (wait for the database, migrate, collect static files, gunicorn) as command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000
WORKDIR /app
# The dependencies first, in a layer that a change of code alone does not rebuild.
COPY pyproject.toml README.md ./
COPY registry registry
COPY people people
COPY agreements agreements
COPY labs labs
COPY backoffice backoffice
RUN pip install --no-cache-dir -e .
COPY . .
# Not root: the app may write only uploaded files and the collected static files.
RUN useradd --system --no-create-home registry \
    && mkdir -p media staticfiles \
    && chown registry media staticfiles
USER registry
EXPOSE 8000
CMD ["bin/start"]
