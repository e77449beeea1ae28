"""The course outline's own manifests, verbatim — mistakes included — and their corrected forms.

The seed notes teach with three YAML documents: the go-demo-2 ReplicaSet (correct), the
helloworld Deployment (its `selector`, `template` and `labels` lost their indentation) and the
hello CronJob (`batch/v1beta1`, removed from Kubernetes, and a flattened `jobTemplate`). The
demo, the lessons and the tests all use these texts, so the errors a learner meets are the
ones the course produces.

Read by: kubelab.cli, lessons, tests. Reads: nothing.
"""

GO_DEMO_2_REPLICASET = """\
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: go-demo-2
spec:
  replicas: 2
  selector:
    matchLabels:
      type: backend
      service: go-demo-2
  template:
    metadata:
      labels:
        type: backend
        service: go-demo-2
        db: mongo
        language: go
    spec:
      containers:
      - name: db
        image: mongo:3.3
      - name: api
        image: vfarcic/go-demo-2
        env:
        - name: DB
          value: localhost
        livenessProbe:
          httpGet:
            path: /demo/hello
            port: 8080
"""

# As the notes have it: `matchLabels`, `metadata` and `spec` are one level too shallow.
HELLOWORLD_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld
spec:
  selector:
  matchLabels:
    app: helloworld
  replicas: 1 # tells deployment to run 1 pods matching the template
  template: # create pods using pod definition in this template
  metadata:
    labels:
    app: helloworld
  spec:
    containers:
    - name: helloworld
      image: karthequian/helloworld:latest
      ports:
      - containerPort: 80
"""

HELLOWORLD_DEPLOYMENT_FIXED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld
spec:
  selector:
    matchLabels:
      app: helloworld
  replicas: 1 # tells deployment to run 1 pods matching the template
  template: # create pods using pod definition in this template
    metadata:
      labels:
        app: helloworld
    spec:
      containers:
      - name: helloworld
        image: karthequian/helloworld:latest
        ports:
        - containerPort: 80
"""

# As the notes have it: a removed apiVersion, and `spec`/`template` one level too shallow.
HELLO_CRONJOB = """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
  spec:
    template:
    spec:
      containers:
      - name: hello
        image: busybox
        args:
        - /bin/sh
        - -c
        - date; echo "Hello, World!"
      restartPolicy: OnFailure
"""

HELLO_CRONJOB_FIXED = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox
            args:
            - /bin/sh
            - -c
            - date; echo "Hello, World!"
          restartPolicy: OnFailure
"""
